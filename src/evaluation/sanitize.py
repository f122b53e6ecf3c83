"""
The sanitizer's Python half, run with python3 by sanitize.ts (see there for why it is Python).
It reads [{prompt, entryPoint, output}] as JSON on stdin and writes [{completion, how}]; with
--serve it stays up and answers one such JSON line per line, so a long run pays for starting
Python once rather than once per answer (a third of a second on a small virtual machine).
It only parses and compiles the answers (compile(), never exec), so running it outside the
sandbox executes none of the model's code.
"""
import ast, json, keyword, re, sys, textwrap

PYTHON_TAGS = {"", "python", "py", "python3", "py3", "ipython"}
FENCE = re.compile(r"^\s*`{3,}\s*([\w+.#-]*)")
SCRIPT_CALLS = {"print", "input", "exit", "quit", "sys.exit", "os._exit", "unittest.main", "doctest.testmod", "pytest.main"}
MAX_SPAN_CHECKS = 2000  # bounds the quadratic search for code among prose to about a second


def compiles(code):
    try:
        compile(code, "<completion>", "exec", dont_inherit=True)
        return True
    except Exception:  # SyntaxError, ValueError (NUL bytes), RecursionError, MemoryError
        return False


# ---- finding the code in an answer ---------------------------------------------------------

def fenced_blocks(text):
    """(tag, code) of each fenced block; an unclosed last block runs to the end (a cut-off answer)."""
    blocks, tag, lines = [], None, []
    for line in text.split("\n"):
        fence = FENCE.match(line)
        if fence and tag is None:
            tag, lines = fence.group(1).lower(), []
        elif fence:
            blocks.append((tag, "\n".join(lines)))
            tag = None
        elif tag is not None:
            lines.append(line)
    if tag is not None:
        blocks.append((tag, "\n".join(lines)))
    return blocks


def body_indent(prompt):
    """The indentation of the prompt's last line: the closing docstring line, inside the function."""
    for line in reversed(prompt.split("\n")):
        if line.strip():
            return line[: len(line) - len(line.lstrip())] or "    "
    return "    "


def as_body(prompt, code):
    """'code', or a re-indented copy of it, that compiles right after the prompt; else None."""
    if compiles(prompt + code):
        return code
    lines = code.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return None
    indent = body_indent(prompt)
    # A body whose first line lost its indentation (the answer was stripped).
    if not lines[first][:1].isspace():
        repaired = "\n".join(lines[:first] + [indent + lines[first]] + lines[first + 1 :])
        if compiles(prompt + repaired):
            return repaired
    # A body written at column 0.
    shifted = "\n".join(indent + line if line.strip() else line for line in lines)
    return shifted if compiles(prompt + shifted) else None


def as_module(code):
    """'code', or its dedented copy, when it compiles on its own; else None."""
    for candidate in (code, textwrap.dedent(code)):
        if compiles(candidate):
            return candidate
    return None


def is_code(prompt, code):
    return as_module(code) is not None or as_body(prompt, code) is not None


TWO_WORDS = re.compile(r"^\s*([A-Za-z_]\w*)\s+([A-Za-z_0-9]\w*)")


def is_prose(line):
    """A line that starts like English ("Step 1", "This function"): two plain words in a row are
    never the start or the end of Python code (the line could only be inside a string, so lines
    with quotes do not count)."""
    words = TWO_WORDS.match(line)
    if not words or any(q in line for q in "\"'#"):
        return False
    reserved = lambda w: keyword.iskeyword(w) or keyword.issoftkeyword(w)
    return not reserved(words.group(1)) and not reserved(words.group(2))


def longest_code_span(prompt, text):
    """The longest run of whole lines that is Python (alone or as the body): code among prose."""
    lines = text.split("\n")
    best, best_size, budget = None, 0, MAX_SPAN_CHECKS
    for i in range(len(lines)):
        if not lines[i].strip() or is_prose(lines[i]):
            continue
        for j in range(len(lines), i, -1):
            if not lines[j - 1].strip() or is_prose(lines[j - 1]):
                continue
            size = sum(1 for line in lines[i:j] if line.strip())
            if size <= best_size:
                break
            budget -= 1
            if budget < 0:
                return best
            if is_code(prompt, "\n".join(lines[i:j])):
                best, best_size = "\n".join(lines[i:j]), size
                break
    return best


def select_code(prompt, text):
    """The code of an answer: its Python fences, else the whole text, else its longest code span."""
    blocks = fenced_blocks(text)
    if blocks:
        python = [code for tag, code in blocks if tag in PYTHON_TAGS]
        usable = [code for code in python if is_code(prompt, code)]
        if usable:
            # A body-only block has to come right after the prompt; module-level blocks follow it.
            # Later blocks stay after earlier ones, so a corrected version of a function wins.
            bodies = [code for code in usable if as_module(code) is None]
            modules = [as_module(code) for code in usable if as_module(code) is not None]
            return "\n\n".join(bodies[:1] + modules), "fenced"
        if python:
            text = "\n".join(python)
    if is_code(prompt, text):
        return text, "as-is"
    span = longest_code_span(prompt, text)
    return (span, "among prose") if span is not None else (None, "no code")


# ---- dropping what is not part of the solution ------------------------------------------------

def dotted_name(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted_name(node.value)
        return base + "." + node.attr if base else None
    return None


def calls(node, names):
    return any(isinstance(n, ast.Call) and dotted_name(n.func) in names for n in ast.walk(node))


def is_main_guard(stmt):
    if not isinstance(stmt, ast.If) or not isinstance(stmt.test, ast.Compare):
        return False
    sides = [stmt.test.left] + stmt.test.comparators
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and any(
        isinstance(s, ast.Constant) and s.value == "__main__" for s in sides
    )


def demo_functions(statements, entry_point):
    """Functions of the answer that test or show off the solution: they assert, print or call it."""
    return {
        s.name
        for s in statements
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
        and s.name != entry_point
        and (any(isinstance(n, ast.Assert) for n in ast.walk(s)) or calls(s, {"print", entry_point}))
    }


def is_scaffolding(stmt, entry_point, demos):
    """Module-level code a chat model adds around a solution: demos, self-tests, script entry points."""
    if is_main_guard(stmt) or isinstance(stmt, ast.Assert):
        return True
    if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
        return True  # legal only at the top of a file, which a completion never is
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        names = [a.name for a in stmt.names] + [getattr(stmt, "module", None) or ""]
        return any(n.split(".")[0] == "pytest" for n in names)  # a test tool, absent from the sandbox
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return stmt.name != entry_point and any(isinstance(n, ast.Name) and n.id == "pytest" for n in ast.walk(stmt))
    if isinstance(stmt, ast.Expr):
        if isinstance(stmt.value, ast.Call) and dotted_name(stmt.value.func) in SCRIPT_CALLS | demos:
            return True
        return calls(stmt.value, {entry_point, "print"})
    if isinstance(stmt, (ast.For, ast.While, ast.If, ast.With)):
        return calls(stmt, {entry_point, "print"} | demos)
    # 'result = f(3)' or 'n = int(input())': a demo run, or a script reading stdin.
    return calls(stmt, {entry_point, "input"})


def drop_scaffolding(source, entry_point, first_line):
    """'source' without the scaffolding statements that start on line 'first_line' or later."""
    statements = [s for s in ast.parse(source).body if s.lineno >= first_line]
    demos = demo_functions(statements, entry_point)
    keep, drop = set(), set()
    for stmt in ast.parse(source).body:
        start = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
        span = set(range(start, stmt.end_lineno + 1))
        if stmt.lineno >= first_line and is_scaffolding(stmt, entry_point, demos):
            drop |= span
        else:
            keep |= span
    drop -= keep  # 'x = 1; print(x)' shares a line: keep the line
    if not drop:
        return source
    return "\n".join(line for number, line in enumerate(source.split("\n"), start=1) if number not in drop)


def defines(module, entry_point):
    return any(
        isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == entry_point
        for s in ast.parse(module).body
    )


# ---- shaping the completion ----------------------------------------------------------------------

def shape(prompt, code, entry_point):
    """A completion that fits 'prompt + completion', and how it was read; None when nothing fits."""
    module = as_module(code)
    if module is not None and defines(module, entry_point):
        # A whole function that repeats the prompt: it goes after the prompt unchanged. Python's later
        # definition wins, so check() calls the model's function with its own helpers and imports,
        # and not one line is re-indented (multi-line strings stay exactly as written).
        separator = "" if not prompt or prompt.endswith("\n") else "\n"
        return separator + drop_scaffolding(module, entry_point, 1), "whole function"
    body = as_body(prompt, code)
    if body is not None:
        # The body of the prompt's function, maybe followed by helpers at module level.
        first_line = prompt.count("\n") + (1 if prompt.endswith("\n") else 2)
        return drop_scaffolding(prompt + body, entry_point, first_line)[len(prompt) :], "body"
    return None, "does not fit the prompt"


def sanitize(prompt, output, entry_point):
    text = output.replace("\r\n", "\n")
    code, found = select_code(prompt, text)
    if code is None:
        return output, found
    completion, how = shape(prompt, code, entry_point)
    if completion is None or not compiles(prompt + completion):
        return output, found + ", " + how + ": kept the answer unchanged"
    return completion, found + ", " + how


def sanitize_all(items):
    results = []
    for item in items:
        completion, how = sanitize(item["prompt"], item["output"], item["entryPoint"])
        results.append({"completion": completion, "how": how})
    return results


def serve():
    for line in sys.stdin:
        try:
            answer = sanitize_all(json.loads(line))
        except Exception as error:  # one bad batch is reported; the server goes on
            answer = {"error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


def main():
    if "--serve" in sys.argv[1:]:
        serve()
    else:
        json.dump(sanitize_all(json.load(sys.stdin)), sys.stdout)


main()
