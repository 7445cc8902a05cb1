"""Shell completion scripts generated from the real argparse parser.

`describe` walks an ``argparse.ArgumentParser`` into a small, shell-neutral model
(commands, their options, their positional arguments and nested subcommands);
`render` turns that model into a bash, zsh or fish script. Nothing here prints.
"""

from __future__ import annotations

import argparse
import contextlib
import re
from collections.abc import Callable, Iterator
from enum import Enum
from typing import NamedTuple

SHELLS: tuple[str, ...] = ("bash", "zsh", "fish")


class ValueKind(Enum):
    """What the value of an option or a positional argument should complete to."""

    NONE = "none"  # a flag: takes no value
    ANY = "any"  # free text: nothing to propose
    FILE = "file"
    DIR = "dir"
    CHOICE = "choice"


# Metavars and destinations that name a path. Anything else completes to nothing.
_DIR_WORDS = frozenset({"dir", "directory", "out_dir", "outdir", "root", "target"})
_FILE_WORDS = frozenset(
    {"path", "paths", "file", "files", "src", "dist", "dists", "wheel", "wheels", "sdist",
     "requirements", "constraints", "constraint", "build_constraint", "script", "editable"}
)


class Argument(NamedTuple):
    """An option (``flags`` set) or a positional argument (``flags`` empty)."""

    name: str
    flags: tuple[str, ...]
    help: str
    kind: ValueKind
    choices: tuple[str, ...] = ()
    repeatable: bool = False

    @property
    def takes_value(self) -> bool:
        return self.kind is not ValueKind.NONE


class Command(NamedTuple):
    """A command (``path[0]`` is the program) with what may follow it on the line."""

    path: tuple[str, ...]
    help: str
    options: tuple[Argument, ...]
    positionals: tuple[Argument, ...]
    subcommands: tuple[Command, ...]

    def walk(self) -> Iterator[Command]:
        yield self
        for sub in self.subcommands:
            yield from sub.walk()


def _clean_help(text: str | None, action: argparse.Action | None = None) -> str:
    """``text`` on one line, with argparse's ``%(default)s`` expanded and no backticks."""
    if not text or text == argparse.SUPPRESS:
        return ""
    if action is not None:
        with contextlib.suppress(KeyError, TypeError, ValueError):
            text = text % vars(action)
    return " ".join(text.split()).replace("`", "")


def _path_kind(action: argparse.Action) -> ValueKind:
    words: list[str] = [action.dest]
    if isinstance(action.metavar, str):
        words.append(action.metavar)
    for word in words:
        key = word.lower().replace("-", "_")
        if key in _DIR_WORDS or key.endswith("_dir"):
            return ValueKind.DIR
        if key in _FILE_WORDS or key.endswith(("_file", "_path")):
            return ValueKind.FILE
    return ValueKind.ANY


def _argument(action: argparse.Action) -> Argument:
    choices = tuple(str(choice) for choice in action.choices) if action.choices else ()
    if action.nargs == 0:
        kind = ValueKind.NONE
    elif choices:
        kind = ValueKind.CHOICE
    else:
        kind = _path_kind(action)
    repeatable = (
        isinstance(action, (argparse._AppendAction, argparse._CountAction))
        or action.nargs in ("*", "+", argparse.REMAINDER)
    )
    name = action.metavar if isinstance(action.metavar, str) else action.dest
    return Argument(
        name=name,
        flags=tuple(action.option_strings),
        help=_clean_help(action.help, action),
        kind=kind,
        choices=choices,
        repeatable=repeatable,
    )


def describe(parser: argparse.ArgumentParser, path: tuple[str, ...] | None = None,
             help_text: str = "") -> Command:
    """The completion model of ``parser`` and, recursively, of its subparsers."""
    path = path or (parser.prog.split()[-1],)
    options: list[Argument] = []
    positionals: list[Argument] = []
    subcommands: list[Command] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: _clean_help(choice.help, choice) for choice in action._choices_actions}
            for name, subparser in action.choices.items():
                subcommands.append(describe(subparser, (*path, name), helps.get(name, "")))
        elif action.help == argparse.SUPPRESS:
            continue
        elif action.option_strings:
            options.append(_argument(action))
        else:
            positionals.append(_argument(action))
    return Command(path, help_text, tuple(options), tuple(positionals), tuple(subcommands))


def _identifier(path: tuple[str, ...]) -> str:
    return "_" + "_".join(re.sub(r"[^A-Za-z0-9]", "_", part) for part in path)


# --------------------------------------------------------------------------- bash


def _bash_word_list(words: list[str]) -> str:
    return " ".join(words)


def _bash_spec(command: Command) -> list[str]:
    subs = [sub.path[-1] for sub in command.subcommands]
    flags = [flag for option in command.options for flag in option.flags]
    valued = [flag for option in command.options if option.takes_value for flag in option.flags]
    kinds = [
        "choice:" + ",".join(p.choices) if p.kind is ValueKind.CHOICE else p.kind.value
        for p in command.positionals
    ]
    repeat = "1" if command.positionals and command.positionals[-1].repeatable else "0"
    return [
        f'        "{" ".join(command.path)}")',
        f'            subcommands="{_bash_word_list(subs)}"',
        f'            options="{_bash_word_list(flags)}"',
        f'            valued=" {_bash_word_list(valued)} "',
        f'            positionals=({" ".join(kinds)})',
        f"            repeat_last={repeat} ;;",
    ]


def _bash_value_cases(root: Command) -> list[str]:
    lines: list[str] = []
    for command in root.walk():
        for option in command.options:
            if option.kind in (ValueKind.NONE, ValueKind.ANY):
                continue
            kind = "choice:" + ",".join(option.choices) if option.kind is ValueKind.CHOICE else option.kind.value
            pattern = "|".join(f'"{" ".join(command.path)} {flag}"' for flag in option.flags)
            lines.append(f"        {pattern}) echo '{kind}' ;;")
    return lines


def render_bash(root: Command) -> str:
    fn = _identifier(root.path)
    prog = root.path[0]
    specs = [line for command in root.walk() for line in _bash_spec(command)]
    values = _bash_value_cases(root)
    return "\n".join([
        f"# bash completion for `{prog}`, generated by `{prog} completion bash`.",
        "",
        f"{fn}_spec() {{",
        "    # Sets subcommands, options, valued, positionals and repeat_last for command $1.",
        "    subcommands='' options='' valued=' ' positionals=() repeat_last=0",
        '    case "$1" in',
        *specs,
        "    esac",
        "}",
        "",
        f"{fn}_value_kind() {{",
        "    # Prints what the value of option $2 of command $1 completes to.",
        '    case "$1 $2" in',
        *values,
        "        *) echo any ;;",
        "    esac",
        "}",
        "",
        f"{fn}_reply() {{",
        "    # Completes $2 as kind $1: file, dir, choice:a,b, words:a b, or any (nothing).",
        '    local kind="$1" cur="$2" line',
        "    COMPREPLY=()",
        '    case "$kind" in',
        "        file) compopt -o filenames 2>/dev/null",
        '              while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen -f -- "$cur") ;;',
        "        dir) compopt -o filenames 2>/dev/null",
        '             while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen -d -- "$cur") ;;',
        '        choice:*) local choices="${kind#choice:}"',
        '                  while IFS= read -r line; do COMPREPLY+=("$line"); done'
        ' < <(compgen -W "${choices//,/ }" -- "$cur") ;;',
        '        words:*) while IFS= read -r line; do COMPREPLY+=("$line"); done'
        ' < <(compgen -W "${kind#words:}" -- "$cur") ;;',
        "    esac",
        "}",
        "",
        f"{fn}() {{",
        '    local cur="${COMP_WORDS[COMP_CWORD]-}" command="' + prog + '" word pending="" kind',
        "    local subcommands options valued positionals repeat_last",
        "    local -i i=1 npos=0 only_positional=0",
        f'    {fn}_spec "$command"',
        "    while (( i < COMP_CWORD )); do",
        '        word="${COMP_WORDS[i]}"',
        '        if (( only_positional == 0 )) && [[ $word == -- ]]; then',
        "            only_positional=1",
        '        elif (( only_positional == 0 )) && [[ $word == -* ]]; then',
        '            if [[ $valued == *" $word "* ]]; then',
        "                # the value is the next word, or the one after `=` (a word break)",
        '                if [[ ${COMP_WORDS[i+1]-} == = ]]; then i+=1; fi',
        '                if (( i + 1 == COMP_CWORD )); then pending="$word"; fi',
        "                i+=1",
        "            fi",
        '        elif (( only_positional == 0 )) && [[ $word == = ]]; then',
        "            i+=1  # the value of an option written `--flag=value`",
        '        elif (( npos == 0 )) && [[ " $subcommands " == *" $word "* ]]; then',
        '            command="$command $word"',
        f'            {fn}_spec "$command"',
        "        else",
        "            npos+=1",
        "        fi",
        "        i+=1",
        "    done",
        '    if [[ -z $pending && $cur == = && $valued == *" ${COMP_WORDS[COMP_CWORD-1]} "* ]]; then',
        '        pending="${COMP_WORDS[COMP_CWORD-1]}" cur=""',
        "    fi",
        '    if [[ -n $pending ]]; then',
        f'        {fn}_reply "$({fn}_value_kind "$command" "$pending")" "$cur"',
        "        return 0",
        "    fi",
        '    if (( only_positional == 0 )) && [[ $cur == -* ]]; then',
        f'        {fn}_reply "words:$options" "$cur"',
        "        return 0",
        "    fi",
        '    if (( npos == 0 )) && [[ -n $subcommands ]]; then',
        f'        {fn}_reply "words:$subcommands" "$cur"',
        "        return 0",
        "    fi",
        "    local count=${#positionals[@]}",
        "    if (( npos >= count && repeat_last == 1 && count > 0 )); then npos=count-1; fi",
        "    if (( npos < count )); then",
        f'        {fn}_reply "${{positionals[npos]}}" "$cur"',
        "    else",
        "        COMPREPLY=()",
        "    fi",
        "    return 0",
        "}",
        "",
        f"complete -F {fn} {prog}",
        "",
    ])


# --------------------------------------------------------------------------- zsh


def _zsh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _zsh_describe(text: str) -> str:
    return re.sub(r"([\[\]:\\])", r"\\\1", text)


def _zsh_action(argument: Argument) -> str:
    if argument.kind is ValueKind.FILE:
        return "_files"
    if argument.kind is ValueKind.DIR:
        return "_files -/"
    if argument.kind is ValueKind.CHOICE:
        return "(" + " ".join(argument.choices) + ")"
    # A bare space shows the message alone; for a positional argument it would also stop
    # `_arguments` from completing options, so positionals propose nothing explicitly.
    return "_nothing" if not argument.flags else " "


def _zsh_option_specs(option: Argument) -> list[str]:
    specs = []
    exclusive = "(" + " ".join(option.flags) + ")" if len(option.flags) > 1 and not option.repeatable else ""
    for flag in option.flags:
        spec = ("*" if option.repeatable else exclusive) + flag
        if option.takes_value:
            spec += "=" if flag.startswith("--") else "+"
        if option.help:
            spec += f"[{_zsh_describe(option.help)}]"
        if option.takes_value:
            spec += f":{_zsh_describe(option.name)}:{_zsh_action(option)}"
        specs.append(_zsh_quote(spec))
    return specs


def _zsh_function(command: Command) -> list[str]:
    fn = _identifier(command.path)
    specs = [spec for option in command.options for spec in _zsh_option_specs(option)]
    if command.subcommands:
        specs += [_zsh_quote(": :->command"), _zsh_quote("*:: :->argument")]
        return [
            f"{fn}() {{",
            "    local curcontext=\"$curcontext\" state line",
            "    local -a commands",
            "    _arguments -C -s \\",
            *(f"        {spec} \\" for spec in specs[:-1]),
            f"        {specs[-1]}",
            '    case "$state" in',
            "        command)",
            "            commands=(",
            *(
                "                " + _zsh_quote(f"{sub.path[-1].replace(':', chr(92) + ':')}:{sub.help}")
                for sub in command.subcommands
            ),
            "            )",
            f"            _describe -t commands {_zsh_quote(' '.join(command.path) + ' command')} commands ;;",
            "        argument)",
            '            case "$line[1]" in',
            *(
                f"                {_zsh_quote(sub.path[-1])}) {_identifier(sub.path)} ;;"
                for sub in command.subcommands
            ),
            "            esac ;;",
            "    esac",
            "}",
        ]
    for position, argument in enumerate(command.positionals, start=1):
        where = "*" if argument.repeatable else str(position)
        specs.append(_zsh_quote(f"{where}::{_zsh_describe(argument.name)}:{_zsh_action(argument)}"))
    body = [f"{spec} \\" for spec in specs[:-1]] + specs[-1:] if specs else []
    return [
        f"{fn}() {{",
        "    _arguments -s \\" if body else "    _arguments",
        *(f"        {line}" for line in body),
        "}",
    ]


def render_zsh(root: Command) -> str:
    prog = root.path[0]
    fn = _identifier(root.path)
    functions = [line for command in root.walk() for line in [*_zsh_function(command), ""]]
    return "\n".join([
        f"#compdef {prog}",
        f"# zsh completion for `{prog}`, generated by `{prog} completion zsh`.",
        "",
        *functions,
        'if [[ "${zsh_eval_context[-1]}" == loadautofunc ]]; then',
        f'    {fn} "$@"',
        "else",
        f"    compdef {fn} {prog}",
        "fi",
        "",
    ])


# --------------------------------------------------------------------------- fish


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_value(argument: Argument) -> str:
    if argument.kind is ValueKind.FILE:
        return " -F"
    if argument.kind is ValueKind.DIR:
        return " -f -a '(__fish_complete_directories)'"
    if argument.kind is ValueKind.CHOICE:
        return " -f -a " + _fish_quote(" ".join(argument.choices))
    return " -f"


def _fish_flag(flag: str) -> str:
    if flag.startswith("--"):
        return f" -l {_fish_quote(flag[2:])}"
    if len(flag) == 2:
        return f" -s {_fish_quote(flag[1:])}"
    return f" -o {_fish_quote(flag[1:])}"


def _fish_lines(command: Command, prog: str) -> list[str]:
    condition = _fish_quote(" ".join([f"{_identifier((prog,))}_at", *command.path[1:]]))
    head = f"complete -c {prog} -n {condition}"
    lines = [f"# {' '.join(command.path)}"]
    for sub in command.subcommands:
        lines.append(f"{head} -f -a {_fish_quote(sub.path[-1])} -d {_fish_quote(sub.help)}")
    for option in command.options:
        line = head + "".join(_fish_flag(flag) for flag in option.flags)
        if option.takes_value:
            line += " -r" + _fish_value(option)
        lines.append(line + f" -d {_fish_quote(option.help)}")
    if not command.subcommands:
        for argument in command.positionals:
            if argument.kind is not ValueKind.ANY:
                lines.append(head + _fish_value(argument))
    return lines


def render_fish(root: Command) -> str:
    prog = root.path[0]
    fn = _identifier(root.path)
    known = [" ".join(c.path[1:]) for c in root.walk() if len(c.path) > 1]
    valued_cases: list[str] = []
    for command in root.walk():
        flags = [flag for option in command.options if option.takes_value for flag in option.flags]
        if flags:
            valued_cases += [
                f"        case {_fish_quote(' '.join(command.path[1:]))}",
                "            printf '%s\\n' " + " ".join(_fish_quote(flag) for flag in flags),
            ]
    body = [line for command in root.walk() for line in _fish_lines(command, prog)]
    return "\n".join([
        f"# fish completion for `{prog}`, generated by `{prog} completion fish`.",
        "",
        f"function {fn}_valued",
        "    # The options of the subcommand path given as arguments that take a value.",
        '    switch "$argv"',
        *valued_cases,
        "    end",
        "end",
        "",
        f"function {fn}_command",
        "    # The subcommand path typed so far, e.g. `pip install`.",
        "    set -l known " + " ".join(_fish_quote(path) for path in known),
        "    set -l path",
        f"    set -l valued ({fn}_valued)",
        "    set -l skip 0",
        "    set -l tokens (commandline -opc)",
        "    set -e tokens[1]",
        "    for token in $tokens",
        "        if test $skip = 1",
        "            set skip 0",
        "        else if contains -- $token $valued",
        "            set skip 1",
        "        else if not string match -q -- '-*' $token",
        "            set -l candidate (string join ' ' $path $token)",
        "            if contains -- $candidate $known",
        "                set path $path $token",
        f"                set valued ({fn}_valued $path)",
        "            end",
        "        end",
        "    end",
        "    string join ' ' $path",
        "end",
        "",
        f"function {fn}_at",
        "    # True when the command line is at the subcommand path given as arguments.",
        f"    set -l path ({fn}_command)",
        '    test "$path" = "$argv"',
        "end",
        "",
        f"complete -c {prog} -f",
        *body,
        "",
    ])


RENDERERS: dict[str, Callable[[Command], str]] = {
    "bash": render_bash,
    "zsh": render_zsh,
    "fish": render_fish,
}


def render(shell: str, parser: argparse.ArgumentParser) -> str:
    """The completion script for ``shell`` (one of `SHELLS`) of the program ``parser`` parses."""
    return RENDERERS[shell](describe(parser))
