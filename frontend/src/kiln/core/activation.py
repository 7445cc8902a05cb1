"""Activation scripts for virtual environments (bash/zsh, fish, csh).

Each template is filled with the environment's path, its scripts directory name and
its prompt. The scripts put the scripts directory first on ``PATH``, set
``VIRTUAL_ENV`` and ``VIRTUAL_ENV_PROMPT``, and define ``deactivate`` to undo that.
"""

from __future__ import annotations

import shlex

_BASH = """\
# Source this file from bash or zsh: `source {bin}/activate`. It cannot be run directly.
deactivate () {{
    if [ -n "${{_KILN_OLD_PATH+set}}" ]; then
        PATH="$_KILN_OLD_PATH"
        export PATH
        unset _KILN_OLD_PATH
    fi
    if [ -n "${{_KILN_OLD_PYTHONHOME+set}}" ]; then
        PYTHONHOME="$_KILN_OLD_PYTHONHOME"
        export PYTHONHOME
        unset _KILN_OLD_PYTHONHOME
    fi
    if [ -n "${{_KILN_OLD_PS1+set}}" ]; then
        PS1="$_KILN_OLD_PS1"
        export PS1
        unset _KILN_OLD_PS1
    fi
    unset VIRTUAL_ENV VIRTUAL_ENV_PROMPT
    hash -r 2>/dev/null
    if [ "${{1:-}}" != "nondestructive" ]; then
        unset -f deactivate
    fi
}}

deactivate nondestructive

{locate}
export VIRTUAL_ENV
VIRTUAL_ENV_PROMPT={prompt}
export VIRTUAL_ENV_PROMPT

_KILN_OLD_PATH="$PATH"
PATH="$VIRTUAL_ENV/{bin}:$PATH"
export PATH

if [ -n "${{PYTHONHOME+set}}" ]; then
    _KILN_OLD_PYTHONHOME="$PYTHONHOME"
    unset PYTHONHOME
fi

if [ -z "${{VIRTUAL_ENV_DISABLE_PROMPT:-}}" ]; then
    _KILN_OLD_PS1="${{PS1:-}}"
    PS1="($VIRTUAL_ENV_PROMPT) ${{PS1:-}}"
    export PS1
fi

hash -r 2>/dev/null
"""

_FISH = """\
# Source this file from fish: `source {bin}/activate.fish`.
function deactivate -d "Leave the virtual environment"
    if set -q _KILN_OLD_PATH
        set -gx PATH $_KILN_OLD_PATH
        set -e _KILN_OLD_PATH
    end
    if set -q _KILN_OLD_PYTHONHOME
        set -gx PYTHONHOME $_KILN_OLD_PYTHONHOME
        set -e _KILN_OLD_PYTHONHOME
    end
    if functions -q _kiln_old_fish_prompt
        functions -e fish_prompt
        functions -c _kiln_old_fish_prompt fish_prompt
        functions -e _kiln_old_fish_prompt
    end
    set -e VIRTUAL_ENV
    set -e VIRTUAL_ENV_PROMPT
    if test "$argv[1]" != "nondestructive"
        functions -e deactivate
    end
end

deactivate nondestructive

{locate}
set -gx VIRTUAL_ENV_PROMPT {prompt}
set -gx _KILN_OLD_PATH $PATH
set -gx PATH "$VIRTUAL_ENV/{bin}" $PATH

if set -q PYTHONHOME
    set -gx _KILN_OLD_PYTHONHOME $PYTHONHOME
    set -e PYTHONHOME
end

if test -z "$VIRTUAL_ENV_DISABLE_PROMPT"
    functions -c fish_prompt _kiln_old_fish_prompt
    function fish_prompt
        set -l old_status $status
        printf "(%s) " $VIRTUAL_ENV_PROMPT
        echo "exit $old_status" | .
        _kiln_old_fish_prompt
    end
end
"""

_CSH = """\
# Source this file from csh or tcsh: `source {bin}/activate.csh`.
alias deactivate 'test $?_KILN_OLD_PATH != 0 && setenv PATH "$_KILN_OLD_PATH:q" && unset _KILN_OLD_PATH; test $?_KILN_OLD_PROMPT != 0 && set prompt="$_KILN_OLD_PROMPT:q" && unset _KILN_OLD_PROMPT; unsetenv VIRTUAL_ENV; unsetenv VIRTUAL_ENV_PROMPT; test "\\!:*" != "nondestructive" && unalias deactivate; rehash'

deactivate nondestructive

setenv VIRTUAL_ENV {path}
setenv VIRTUAL_ENV_PROMPT {prompt}
set _KILN_OLD_PATH="$PATH:q"
setenv PATH "$VIRTUAL_ENV:q/{bin}:$PATH:q"

if ( ! $?VIRTUAL_ENV_DISABLE_PROMPT ) then
    if ( $?prompt ) then
        set _KILN_OLD_PROMPT="$prompt:q"
        set prompt = "($VIRTUAL_ENV_PROMPT:q) $prompt:q"
    endif
endif

rehash
"""


#: bash/zsh, relocatable: the environment is the parent of the directory of this script.
_BASH_LOCATE = """\
if [ -n "${BASH_VERSION:-}" ]; then
    _kiln_script="${BASH_SOURCE[0]}"
elif [ -n "${ZSH_VERSION:-}" ]; then
    eval '_kiln_script="${(%):-%x}"'
else
    _kiln_script="$0"
fi
VIRTUAL_ENV="$(cd -- "$(dirname -- "$_kiln_script")/.." && pwd)"
unset _kiln_script"""

_FISH_LOCATE = "set -gx VIRTUAL_ENV (builtin realpath (dirname (status filename))/..)"


def activation_scripts(
    path: str, bin_name: str, prompt: str, *, relocatable: bool = False
) -> dict[str, str]:
    """File name (in the scripts directory) -> content.

    ``relocatable``: the scripts find the environment from their own location instead of
    naming ``path``; csh, which cannot tell a sourced script where it is, gets none."""
    quoted = shlex.quote(path)
    values = {"path": quoted, "bin": bin_name, "prompt": shlex.quote(prompt)}
    bash = _BASH_LOCATE if relocatable else f"VIRTUAL_ENV={quoted}"
    fish = _FISH_LOCATE if relocatable else f"set -gx VIRTUAL_ENV {quoted}"
    scripts = {
        "activate": _BASH.format(**values, locate=bash),
        "activate.fish": _FISH.format(**values, locate=fish),
    }
    if not relocatable:
        scripts["activate.csh"] = _CSH.format(**values)
    return scripts
