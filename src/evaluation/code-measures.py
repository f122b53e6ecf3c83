"""Code-quality measures of a Python program, from its text alone: it is parsed, never run.

koderz runs this in the sandbox (code-measures.ts appends a call with the program as a string
literal) and reads the one JSON line it prints. Only the standard library: the sandbox image has
python3 and numpy, not radon or mccabe.

- Cyclomatic complexity (McCabe) per block: 1 + one per decision: if/elif, conditional
  expression, for, while, except, each `for` and `if` of a comprehension, each case of a match,
  and each extra operand of `and`/`or`. A block is a function or method (nested ones are blocks of
  their own); module-level code is a block when it decides something or the program has no function.
- Halstead volume V = N log2(n) over the program's tokens (tokenize): operators are punctuation
  and keywords, operands are names, numbers and strings; N counts them all, n the distinct ones.
- Maintainability index, the 0-100 variant Visual Studio reports of Oman and Hagemeister's:
  max(0, (171 - 5.2 ln V - 0.23 G - 16.2 ln SLOC) * 100 / 171), G the sum of the blocks'
  complexities, SLOC the lines holding code (not blank, comment or docstring).
"""

import ast
import io
import json
import keyword
import math
import tokenize

_BRANCHES = (ast.If, ast.IfExp, ast.For, ast.AsyncFor, ast.While, ast.ExceptHandler)


def _decisions(node):
    """Decisions under `node`, not counting nested functions (blocks of their own) or classes' methods."""
    count = 0
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(child, _BRANCHES):
            count += 1
        elif isinstance(child, ast.comprehension):
            count += 1 + len(child.ifs)
        elif isinstance(child, ast.BoolOp):
            count += len(child.values) - 1
        elif type(child).__name__ == "match_case":
            count += 1
        count += _decisions(child)
    return count


def cyclomatic_blocks(tree):
    """(name, complexity) of each function and method, and of the module's own code when it counts."""
    blocks = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            blocks.append((node.name, 1 + _decisions(node)))
    module = _decisions(tree)
    if module > 0 or not blocks:
        blocks.append(("<module>", 1 + module))
    return blocks


def _docstring_lines(tree):
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                lines.update(range(first.lineno, first.end_lineno + 1))
    return lines


_SKIPPED = {tokenize.ENCODING, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT, tokenize.ENDMARKER}


def halstead_and_sloc(source, docstrings):
    operators, operands = [], []
    code_lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in _SKIPPED or token.start[0] in docstrings:
            continue
        code_lines.update(range(token.start[0], token.end[0] + 1))
        if token.type == tokenize.OP or (token.type == tokenize.NAME and keyword.iskeyword(token.string)):
            operators.append(token.string)
        else:
            operands.append(token.string)
    length = len(operators) + len(operands)
    vocabulary = len(set(operators)) + len(set(operands))
    volume = length * math.log2(vocabulary) if vocabulary > 1 else 0.0
    return volume, len(code_lines)


def maintainability_index(volume, complexity, sloc):
    raw = 171 - 5.2 * math.log(max(volume, 1)) - 0.23 * complexity - 16.2 * math.log(max(sloc, 1))
    return min(100.0, max(0.0, raw * 100 / 171))


def measure(source):
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return {"error": "SyntaxError: %s (line %s)" % (error.msg, error.lineno)}
    blocks = cyclomatic_blocks(tree)
    complexities = [c for _, c in blocks]
    volume, sloc = halstead_and_sloc(source, _docstring_lines(tree))
    return {
        "cyclomatic": max(complexities),
        "meanCyclomatic": round(sum(complexities) / len(complexities), 2),
        "halsteadVolume": round(volume, 2),
        "sloc": sloc,
        "maintainability": round(maintainability_index(volume, sum(complexities), sloc), 2),
    }


def print_measures(source):
    print(json.dumps(measure(source)))
