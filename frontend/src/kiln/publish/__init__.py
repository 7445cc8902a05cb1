"""`kiln publish`: validate distribution files and upload them through the legacy upload API.

Modules, in the order a publish runs through them:

- ``files``: find the files, parse their names, group each sdist with its wheels;
- ``archive``: read the core metadata out of a wheel or an sdist;
- ``check``: validate every file before any request is made;
- ``target``: where to upload (``--publish-url``, ``--index`` from ``pyproject.toml``);
- ``credentials`` and ``redact``: who to upload as, without ever showing a secret;
- ``existing``: ask a simple index whether a file is already there (``--check-url``);
- ``form`` and ``multipart``: the upload request body;
- ``upload``: one upload with retries; ``session``: the whole run, reported per file.
"""
