"""Make asv's published site work without the internet.

asv 0.6.6 loads jQuery, flot, Bootstrap, stupidtable and md5 from public CDNs; on a lab
machine without internet access, or anywhere the pages must not reach out, the graphs
never draw (asv shows its "failed to load" page). The suite serves the distribution's
packaged copies instead (Debian: libjs-jquery, libjs-jquery-flot, libjs-bootstrap,
libjs-jquery-stupidtable, node-blueimp-md5, installed by scripts/setup.sh): they are copied
into ``vendor/`` of the site and the page refers to them, so the site is self-contained.

Debian's flot is 4.x, one file bundling the core and the plugins asv loads separately
(time, selection, categories, axis labels); those tags are dropped. flot-orderBars (only
for bar charts with a parameter on the x-axis) has no package; without it bars overlap.
flot 4 draws the legend as SVG and leaves its background to the page's style sheet (asv's
has none for it, so the legend would be black on black): ``LEGEND_CSS`` gives it one.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import SetupError

JS_ROOT = Path("/usr/share/javascript")


@dataclass(frozen=True)
class Asset:
    pattern: str  # matches the CDN address in asv's index.html
    local: str | None  # file under JS_ROOT, or None: dropped (provided by another asset)
    package: str  # Debian package that ships it


ASSETS: tuple[Asset, ...] = (
    Asset(r"code\.jquery\.com/jquery-[\d.]+(\.min)?\.js", "jquery/jquery.min.js", "libjs-jquery"),
    Asset(r"/flot/[\d.]+/jquery\.flot\.min\.js", "jquery-flot/jquery.flot.min.js", "libjs-jquery-flot"),
    Asset(r"/flot/[\d.]+/jquery\.flot\.(time|selection|categories)\.min\.js", None, "libjs-jquery-flot"),
    Asset(r"flot-orderbars@[\d.]+/js/jquery\.flot\.orderBars\.js", None, "(none)"),
    Asset(r"/stupidtable/[\d.]+/stupidtable\.min\.js", "jquery-stupidtable/stupidtable.min.js",
          "libjs-jquery-stupidtable"),
    Asset(r"/blueimp-md5/[\d.]+/js/md5\.min\.js", "blueimp-md5/md5.min.js", "node-blueimp-md5"),
    Asset(r"bootstrap@[\d.]+/dist/js/bootstrap\.min\.js", "bootstrap/js/bootstrap.min.js", "libjs-bootstrap"),
    Asset(r"bootstrap@[\d.]+/dist/css/bootstrap\.min\.css", "bootstrap/css/bootstrap.min.css", "libjs-bootstrap"),
)
#: asv's own copy of the 0.8-era axis-label plugin: flot 4 draws axis labels itself.
_ASV_AXISLABELS = re.compile(r'\s*<script[^>]*src="jquery\.flot\.axislabels\.js"[^>]*>\s*</script>')
LEGEND_CSS = ".legendLayer .background { fill: rgba(255, 255, 255, 0.85); stroke: rgba(0, 0, 0, 0.85); stroke-width: 1; }\n"
_TAG = re.compile(r'<(script|link)\b[^>]*?(?:src|href)="(https?://[^"]+)"[^>]*>(?:\s*</script>)?')


def missing_assets(root: Path = JS_ROOT) -> list[str]:
    """Packages whose files are absent (scripts/setup.sh installs them)."""
    return sorted({a.package for a in ASSETS if a.local and not (root / a.local).is_file()})


def make_self_contained(html_dir: Path, root: Path = JS_ROOT) -> list[str]:
    """Point every external script and style of index.html at a local copy; returns the
    local files used. Fails when an address is unknown or a package is missing."""
    missing = missing_assets(root)
    if missing:
        raise SetupError(f"the published pages need {', '.join(missing)} (run scripts/setup.sh as root)")
    index = html_dir / "index.html"
    text = index.read_text()
    vendor = html_dir / "vendor"
    vendor.mkdir(exist_ok=True)
    used: list[str] = []

    def replace(match: re.Match[str]) -> str:
        kind, url = match.group(1), match.group(2)
        if "github.com" in url:
            return match.group(0)
        asset = next((a for a in ASSETS if re.search(a.pattern, url)), None)
        if asset is None:
            raise SetupError(f"asv's index.html loads {url}, which the suite has no local copy of")
        if asset.local is None:
            return ""
        name = asset.local.replace("/", "-")
        shutil.copyfile(root / asset.local, vendor / name)
        used.append(asset.local)
        if kind == "link":
            return f'<link rel="stylesheet" href="vendor/{name}">'
        return f'<script type="text/javascript" src="vendor/{name}" onerror="js_load_failure()"></script>'

    text = _TAG.sub(replace, text)
    text = _ASV_AXISLABELS.sub("", text)
    (vendor / "netbench-flot4.css").write_text(LEGEND_CSS)
    text = text.replace("</head>", '  <link rel="stylesheet" href="vendor/netbench-flot4.css">\n  </head>', 1)
    leftover = [u for u in re.findall(r'(?:src|href)="(https?://[^"]+)"', text) if "github.com" not in u]
    if leftover:
        raise SetupError(f"index.html still loads {leftover[0]}")
    index.write_text(text)
    return used
