"""The suite's corrections to asv's published pages (after ``site`` made them self-contained).

- A point with no drawn neighbour is invisible: flot draws a line only between two points,
  and asv's summary grid (and the overview under a graph) plots lines without points, so a
  history of one stack snapshot showed every graph as an empty box. A small flot plugin shows
  the points of any series that has such a lone point; series of connected points are drawn
  as asv draws them.
- The list view colours a "recent change" above 5% red and one below -5% green, whichever way
  is better. For a benchmark whose entry in ``index.json`` says ``higher_is_better`` the sign
  is turned before the colour is chosen (its regressions are turned in ``regressions``).
- Opened from the file system, asv's pages cannot load their JSON and say only "Error fetching
  content"; they now say how to serve them (``publish --serve``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import SetupError
from .serve import VIEW_COMMAND

SCRIPT = "vendor/netbench-pages.js"

PAGES_JS = """\
/* podman-netbench: corrections to asv's pages (bench_runner/history/pagefixes.py). */
(function ($) {
    "use strict";

    /* flot draws nothing for a point without a neighbour in a line: show the points of a
       series that has one. */
    function value(point) {
        return point === null || point === undefined ? null : (Array.isArray(point) ? point[1] : point);
    }
    function hasLonePoint(data) {
        for (var i = 0; i < data.length; i++) {
            var here = value(data[i]);
            if (here === null) continue;
            var before = i > 0 ? value(data[i - 1]) : null;
            var after = i + 1 < data.length ? value(data[i + 1]) : null;
            if (before === null && after === null) return true;
        }
        return false;
    }
    function processRawData(plot, series, data) {
        if (series.lines && series.lines.show && series.points && !series.points.show && data && hasLonePoint(data)) {
            series.points.show = true;
            series.points.fill = true;
            series.points.fillColor = series.color;
        }
    }
    /* An axis whose data are one value would span [value, value + 1] (flot 4), which puts a
       lone point in the corner: centre it instead. */
    function setRange(plot, axis) {
        if (axis.used && isFinite(axis.datamin) && axis.datamin === axis.datamax) {
            var widen = axis.datamin === 0 ? 1 : Math.abs(axis.datamin) / 2;
            axis.datamin -= widen;
            axis.datamax += widen;
        }
    }
    $.plot.plugins.push({
        init: function (plot) {
            plot.hooks.processRawData.push(processRawData);
            plot.hooks.setRange.push(setRange);
        },
        name: "netbench-lone-points",
        version: "1.0"
    });

    /* The change of a benchmark, signed so that positive is worse. */
    window.netbench_worse = function (name, change) {
        var benchmark = $.asv && $.asv.main_json && $.asv.main_json.benchmarks[name];
        return benchmark && benchmark.higher_is_better ? -change : change;
    };

    /* Opened from a file, the pages cannot fetch their JSON. */
    $(function () {
        if (window.location.protocol !== "file:" || !$.asv || !$.asv.ui) return;
        $.asv.ui.network_error = function () {
            $("#error-message").text(
                "These pages load their data (index.json, graphs/) over HTTP, which a page opened " +
                "from a file cannot do. Serve them: " + __SERVE_HINT__ + " (then open http://127.0.0.1:8080/).");
            $("#error").modal("show");
        };
    });
})(jQuery);
"""

#: asv 0.6.6's summarylist.js: the change's colour, by its sign alone.
_CHANGE_CLASSES = (
    (re.compile(r"if \(change > 5\) \{(\s*change_td\.addClass\('positive-change'\);)"),
     r"if (netbench_worse(row.name, change) > 5) {\1"),
    (re.compile(r"else if \(change < -5\) \{(\s*change_td\.addClass\('negative-change'\);)"),
     r"else if (netbench_worse(row.name, change) < -5) {\1"),
)


def apply(html_dir: Path) -> None:
    """Add the corrections to a published site (asv publish rewrites it whole each time)."""
    index = html_dir / "index.html"
    summarylist = html_dir / "summarylist.js"
    text = summarylist.read_text()
    for pattern, replacement in _CHANGE_CLASSES:
        text, count = pattern.subn(replacement, text)
        if count != 1:
            raise SetupError(f"{summarylist} is not asv 0.6.6's (pinned in requirements.txt): "
                             "its change colours cannot be made direction-aware")
    summarylist.write_text(text)
    (html_dir / SCRIPT).write_text(PAGES_JS.replace("__SERVE_HINT__", json.dumps(VIEW_COMMAND)))
    page = index.read_text()
    if SCRIPT not in page:
        # After every script in the head: flot and asv's $.asv.ui exist when it runs.
        page = page.replace("</head>", f'  <script type="text/javascript" src="{SCRIPT}"></script>\n  </head>', 1)
    index.write_text(page)
