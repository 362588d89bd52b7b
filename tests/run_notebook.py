#!/usr/bin/env python3
"""Executes a notebook headless, the way the test suite runs notebooks/*.ipynb.

    run_notebook.py NOTEBOOK OUTPUT_DIR

Every cell runs in order in a fresh Python 3 kernel started with this very interpreter
(so the kernel has the same nbclient, ipykernel and matplotlib as the runner, whatever
other Jupyter installations say), with the notebook's own folder as working directory.
The executed copy is written to OUTPUT_DIR (never over the source). Exit code 0 when
every cell ran, 1 with the failing cell and its traceback when one raised, or when a
cell drew text its font has no glyph for (matplotlib's "Glyph … missing from" warning:
the picture shows empty boxes, e.g. Chinese labels without a CJK font), 2 when
Jupyter's packages are missing.
"""
import json
import os
import re
import shutil
import sys
import tempfile
import time


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    notebook_path, output_dir = argv[1], argv[2]
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
        import ipykernel  # noqa: F401  (the kernel below needs it)
    except ImportError as error:
        print(f"run_notebook.py: {error}; install python3-nbclient python3-ipykernel "
              f"python3-matplotlib (bash .ci/deps) or configure with -DSTEPGRAD_NOTEBOOKS=OFF",
              file=sys.stderr)
        return 2

    # A kernel spec of our own, first on JUPYTER_PATH: "python3" is this interpreter.
    spec_root = tempfile.mkdtemp(prefix="stepgrad-kernel-")
    spec_dir = os.path.join(spec_root, "kernels", "python3")
    os.makedirs(spec_dir)
    with open(os.path.join(spec_dir, "kernel.json"), "w", encoding="utf-8") as f:
        json.dump({"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                   "display_name": "Python 3", "language": "python"}, f)
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [spec_root] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p])
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiets ipykernel's debugger
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")  # no __pycache__ in notebooks/

    try:
        return execute(notebook_path, output_dir)
    finally:
        shutil.rmtree(spec_root, ignore_errors=True)  # leave nothing behind in /tmp


def execute(notebook_path, output_dir):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    import nbformat
    notebook = nbformat.read(notebook_path, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": os.path.dirname(os.path.abspath(notebook_path))}})
    start = time.monotonic()
    failed = None
    try:
        client.execute()
    except CellExecutionError as error:
        failed = error
    os.makedirs(output_dir, exist_ok=True)
    output = os.path.join(output_dir, os.path.basename(notebook_path))
    nbformat.write(notebook, output)
    name = os.path.basename(notebook_path)
    if failed is not None:
        print(f"{name}: a cell failed (executed copy: {output})\n{failed}", file=sys.stderr)
        return 1
    boxes = missing_glyphs(notebook)
    if boxes:
        print(f"{name}: drew characters its font has no glyph for, as empty boxes (executed copy: "
              f"{output}); Chinese needs a CJK font: apt-get install fonts-wqy-microhei (bash .ci/deps)",
              file=sys.stderr)
        for number, warning in boxes[:8]:
            print(f"  code cell {number}: {warning}", file=sys.stderr)
        if len(boxes) > 8:
            print(f"  … and {len(boxes) - 8} more", file=sys.stderr)
        return 1
    cells = sum(1 for cell in notebook.cells if cell.cell_type == "code")
    print(f"{name}: {cells} code cells ran in {time.monotonic() - start:.1f} s; executed copy: {output}")
    return 0


def missing_glyphs(notebook):
    """(code cell number, warning) for each "Glyph N (…) missing from current font." (matplotlib
    3.6; later ones say "missing from font(s) …") that a cell wrote to its stderr. Python
    shows a warning once per place it is raised, so a missing glyph shows at least once."""
    found = []
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for number, cell in enumerate(code_cells, start=1):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                found += [(number, m) for m in re.findall(r"Glyph \d+ .*? missing from [^\n]*", out.get("text", ""))]
    return list(dict.fromkeys(found))  # one glyph can be warned about at each draw


if __name__ == "__main__":
    sys.exit(main(sys.argv))
