#!/usr/bin/env python3
"""Proves that no test depends on the English wording: rewrites every
message of locales/en/chatroom.ftl in a copy of the project, then builds
and runs the test suite there.

    python3 tests/reword-check.py                # both rewordings at once
    python3 tests/reword-check.py --mode upper   # one of them
    python3 tests/reword-check.py --print        # show the rewritten file
    python3 tests/reword-check.py --scope notices  # only what connections receive
    python3 tests/reword-check.py -- --test soak # arguments for cargo test

Rewordings: `wrap` puts a word before and after every message ("Well, ...
Indeed."), `upper` capitalises every lowercase word of the text (not
placeables, variant keys, commands or names), `both` does the two. The
messages that fix the shape of a line for every language (`chat-line`,
`action-line`, `admin-line`, `admin-name`, a reserved nickname, and
`language-name`, each language's own name) are left alone: the
protocol, not the wording, defines them.

`--scope all` (the default) rewrites every message, the programs' errors and
the bench's labels too; `--scope notices` only the sections of the file
that connections receive (Joining, Room traffic, Replies to commands).

The copy lives in a temporary directory; the build goes to
target/reword-check, so a second run only rebuilds the crate. Exits with
cargo's status. Run from the project root.
"""
import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

FIXED = {"chat-line", "action-line", "admin-line", "admin-name", "language-name"}
NOTICE_SECTIONS = {"Joining", "Room traffic", "Replies to commands"}
MESSAGE = re.compile(r"^([a-z][a-z0-9-]*)\s*=\s*(.*)$")
WORD = re.compile(r"(?<![/@$\w-])[A-Za-z][A-Za-z']*(?![\w/])")


def upper_text(text):
    """Capitalises the words of `text` outside placeables ({ ... })."""
    out, depth, chunk = [], 0, ""
    for c in text:
        if c == "{":
            if depth == 0:
                out.append(WORD.sub(lambda m: m.group(0).upper(), chunk))
                chunk = ""
            depth += 1
            out.append(c)
        elif c == "}" and depth > 0:
            depth -= 1
            out.append(c)
        elif depth > 0:
            out.append(c)
        else:
            chunk += c
    out.append(WORD.sub(lambda m: m.group(0).upper(), chunk))
    return "".join(out)


def upper_line(line, in_select):
    """One line of a message value; `in_select` says whether it lies in a
    select expression, whose variant keys must stay as they are."""
    body = line
    prefix = ""
    if in_select:
        m = re.match(r"^(\s*\*?\[[^\]]*\]\s*)(.*)$", line)
        if m:
            prefix, body = m.group(1), m.group(2)
        m = re.match(r"^(\s*\})(.*)$", body)
        if m:
            prefix, body = prefix + m.group(1), m.group(2)
    return prefix + upper_text(body)


def opens_select(line):
    return re.search(r"->\s*$", line) is not None


def reword(source, mode, scope):
    lines = source.splitlines()
    out = []
    section = None
    i = 0
    while i < len(lines):
        heading = re.match(r"^## (.*)$", lines[i])
        if heading:
            section = heading.group(1).strip()
        m = MESSAGE.match(lines[i])
        out_of_scope = scope == "notices" and section not in NOTICE_SECTIONS
        if not m or m.group(1) in FIXED or out_of_scope:
            out.append(lines[i])
            i += 1
            continue
        key, first = m.group(1), m.group(2)
        body = [first] if first else []
        i += 1
        while i < len(lines) and lines[i].startswith(" ") and lines[i].strip():
            body.append(lines[i])
            i += 1
        if mode in ("upper", "both"):
            in_select = False
            changed = []
            for line in body:
                changed.append(upper_line(line, in_select))
                if opens_select(line):
                    in_select = True
                elif re.match(r"^\s*\}", line):
                    in_select = False
            body = changed
        if mode in ("wrap", "both"):
            m0 = re.match(r"^(\s*)(.*)$", body[0])
            body[0] = m0.group(1) + "Well, " + m0.group(2)
            body[-1] = body[-1] + " Indeed."
        if first:
            out.append(f"{key} = {body[0]}")
            out.extend(body[1:])
        else:
            out.append(f"{key} =")
            out.extend(body)
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["wrap", "upper", "both"], default="both")
    parser.add_argument("--scope", choices=["all", "notices"], default="all")
    parser.add_argument("--print", action="store_true", help="print the rewritten file and stop")
    parser.add_argument("cargo_args", nargs="*", help="passed to cargo test (after --)")
    args = parser.parse_args()

    root = pathlib.Path.cwd()
    ftl = root / "locales/en/chatroom.ftl"
    reworded = reword(ftl.read_text(), args.mode, args.scope)
    if args.print:
        sys.stdout.write(reworded)
        return 0
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=root, check=True, capture_output=True, text=True,
    ).stdout.split("\n")
    with tempfile.TemporaryDirectory(prefix="chatroom-reword-") as tmp:
        copy = pathlib.Path(tmp)
        for name in filter(None, files):
            source = root / name
            if source.is_file():
                (copy / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, copy / name)
        (copy / "locales/en/chatroom.ftl").write_text(reworded)
        env = dict(os.environ, CARGO_TARGET_DIR=str(root / "target/reword-check"))
        print(
            f"reword-check: {args.mode} rewording of {args.scope}, cargo test in {copy}",
            file=sys.stderr,
        )
        result = subprocess.run(["cargo", "test", *args.cargo_args], cwd=copy, env=env)
        return result.returncode


if __name__ == "__main__":
    sys.exit(main())
