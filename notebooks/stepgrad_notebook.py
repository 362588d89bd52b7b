"""What the notebooks share: finding the lesson programs, running them, plotting α
(Chinese labels too), rendering a lesson's Graphviz DOT.

Every number a notebook plots comes from a lesson program's own output files (--json,
--csv, --dot, --svg), written by stepgrad's C++ code; this module only runs the programs
and draws.

    STEPGRAD_BUILD_DIR    the folder with the lesson programs (default ../build/release,
                          relative to the notebooks folder)
    STEPGRAD_FIGURES_DIR  when set, save_figure() writes PNGs there (the README's
                          pictures); otherwise it writes nothing
    STEPGRAD_OUT_DIR      where the lessons' --json and --csv go, kept afterwards
                          (default: a temporary folder, removed when the kernel exits)
"""
import atexit
import concurrent.futures
import csv
import json
import os
import shlex
import shutil
import subprocess
import tempfile
import time
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_DIR = os.path.abspath(os.path.join(HERE, os.environ.get("STEPGRAD_BUILD_DIR", "../build/release")))
if os.environ.get("STEPGRAD_OUT_DIR"):
    OUT_DIR = os.path.abspath(os.environ["STEPGRAD_OUT_DIR"])
    os.makedirs(OUT_DIR, exist_ok=True)
else:
    OUT_DIR = tempfile.mkdtemp(prefix="stepgrad-notebook-")
    atexit.register(shutil.rmtree, OUT_DIR, ignore_errors=True)


def program(name):
    """The path of a lesson program, e.g. program("05_concat_attention")."""
    path = os.path.join(BUILD_DIR, name)
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(
            f"{path} is missing: build the lessons first (cmake --workflow --preset release), "
            f"or point STEPGRAD_BUILD_DIR at your build folder")
    return path


def output(filename):
    """A path in this session's scratch folder, for a lesson's --json or --csv."""
    return os.path.join(OUT_DIR, filename)


def run(name, *args):
    """Runs a lesson program with --color never; returns its stdout. Fails loudly."""
    command = [program(name), *map(str, args), "--color", "never"]
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} exited with {done.returncode}:\n{done.stderr[-2000:]}")
    print(f"ran {name} {shlex.join(map(str, args))}  ({time.monotonic() - start:.1f} s)")
    return done.stdout


def run_many(jobs):
    """Runs several (name, args…) tuples, as many at once as there are cores; returns
    their stdouts in order."""
    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda job: run(*job), jobs))


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_csv(path):
    """Rows as dicts; numbers converted to int or float."""
    def number(text):
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
        return text
    with open(path, encoding="utf-8", newline="") as f:
        return [{key: number(value) for key, value in row.items()} for row in csv.DictReader(f)]


def trace_alpha(trace):
    """From a stepgrad-trace/1 file: α (target steps × source positions), the source
    tokens across and the target tokens down, as the trace has them."""
    src = [trace["src_vocab"][i] for i in trace["src"]]
    tgt = [trace["tgt_vocab"][i] for i in trace["tgt"]]
    alpha = [step["alpha"] for step in trace["decoder"]]
    return alpha, src, tgt


CJK_FONT_PACKAGE = "fonts-wqy-microhei"  # Debian's smallest CJK font (1.6 MB); bash .ci/deps installs it
CJK_FONT_FILE = "wqy-microhei.ttc"        # the file it installs, preferred over any other CJK font
CJK_PROBE = "汤姆追逐杰瑞"                 # seed 004's Chinese: a font without these glyphs draws boxes
_cjk_font = None


def is_cjk(text):
    """True when the text has a wide (two-column) character: Chinese, Japanese, Korean."""
    return any(unicodedata.east_asian_width(ch) in "WF" for ch in text)


def use_cjk_font():
    """Lets matplotlib draw Chinese: adds an installed font with CJK glyphs after the usual
    families in rcParams["font.family"], so Latin text keeps its look (DejaVu Sans) and each
    glyph that font lacks falls back to the CJK one (matplotlib ≥ 3.6 falls back glyph by
    glyph). Returns the CJK font's name. Raises when none is installed, rather than letting
    matplotlib draw empty boxes. Call it before making the figure: a text takes its font
    when it is created."""
    global _cjk_font
    if _cjk_font is not None:
        return _cjk_font
    import matplotlib
    from matplotlib import font_manager, ft2font

    def has_cjk(path):
        try:
            font = ft2font.FT2Font(path)
        except (OSError, RuntimeError):
            return False
        return all(font.get_char_index(ord(ch)) for ch in CJK_PROBE)
    paths = sorted(font_manager.findSystemFonts(), key=lambda p: os.path.basename(p) != CJK_FONT_FILE)
    path = next((p for p in paths if has_cjk(p)), None)
    if path is None:
        raise FileNotFoundError(f"no font with Chinese glyphs is installed, so matplotlib would draw "
                                f"empty boxes: apt-get install {CJK_FONT_PACKAGE} (bash .ci/deps does it)")
    font_manager.fontManager.addfont(path)  # matplotlib's font cache may predate the install
    name = font_manager.FontProperties(fname=path).get_name()
    families = [f for f in matplotlib.rcParams["font.family"] if f != name]
    matplotlib.rcParams["font.family"] = families + [name]
    _cjk_font = name
    return name


def plot_alpha(ax, alpha, src, tgt, title, fontsize=8):
    """α as a heatmap with the tokens as labels: target down, source across."""
    shown = lambda tokens: ["␣" if t == " " else t for t in tokens]  # a space, made visible
    font = {}
    if is_cjk("".join([*src, *tgt, title])):  # the axes may predate use_cjk_font(): name the families
        import matplotlib
        use_cjk_font()
        font["fontfamily"] = list(matplotlib.rcParams["font.family"])
    image = ax.imshow(alpha, cmap="Greys", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(len(src)))
    ax.set_xticklabels(shown(src), rotation=90 if max(map(len, src)) > 2 else 0, fontsize=fontsize, **font)
    ax.set_yticks(range(len(tgt)))
    ax.set_yticklabels(shown(tgt), fontsize=fontsize, **font)
    ax.set_title(title, fontsize=fontsize + 2, **font)
    ax.tick_params(length=0)
    return image


def render_dot(path, image_format="png"):
    """Renders a Graphviz DOT file (a lesson's --dot) with graphviz's `dot`; returns the
    image's bytes. Debian's graphviz package has it (bash .ci/deps installs it)."""
    dot = shutil.which("dot")
    if dot is None:
        raise FileNotFoundError("graphviz's `dot` is not installed: apt-get install graphviz "
                                "(bash .ci/deps does it)")
    done = subprocess.run([dot, f"-T{image_format}", path], capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"dot -T{image_format} {path} exited with {done.returncode}:\n"
                           f"{done.stderr.decode('utf-8', 'replace')[-2000:]}")
    return done.stdout


def save_figure(figure, filename, dpi=80):
    """Saves the figure as a PNG under STEPGRAD_FIGURES_DIR, when that is set."""
    folder = os.environ.get("STEPGRAD_FIGURES_DIR")
    if not folder:
        return None
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, filename)
    figure.savefig(path, dpi=dpi, bbox_inches="tight")
    print(f"saved {path} ({os.path.getsize(path) // 1024} KB)")
    return path
