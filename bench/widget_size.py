"""The widget's weight as a visitor's browser downloads it (gzip -9), beside peers' embed scripts measured the same
way from their npm packages. Run: .venv-dev/bin/python bench/widget_size.py

Budgets (issue 5): the loader at most 4 KB, everything together at most 15 KB. Peers' packages are fetched with
`npm pack` into a temporary folder; without the registry they are printed as "not measured"."""

# ruff: noqa: T201 (a bench prints its figures)
from __future__ import annotations

import gzip
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from overture.web.widget_assets import widget_assets  # noqa: E402

LOADER_BUDGET = 4 * 1024
TOTAL_BUDGET = 15 * 1024
# (package, files inside it that a page loads to show the embed)
PEERS = [
    ("@typebot.io/js", ["package/dist/web.js"]),
    ("@calcom/embed-core", ["package/dist/embed/embed.js"]),
]


def gzipped(content: bytes) -> int:
    return len(gzip.compress(content, compresslevel=9, mtime=0))


def peer_size(package: str, files: list[str], folder: Path) -> str:
    try:
        name = (
            subprocess.run(
                ["npm", "pack", package, "--silent", "--pack-destination", str(folder)],
                check=True,
                capture_output=True,
                text=True,
                timeout=120,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        with tarfile.open(folder / name) as archive:
            members = {member.name: member for member in archive.getmembers()}
            total = 0
            for path in files:
                if path not in members:  # the layout changed: take the largest script of dist/ instead
                    scripts = [
                        m for m in members.values() if m.name.startswith("package/dist/") and m.name.endswith(".js")
                    ]
                    path = max(scripts, key=lambda m: m.size).name
                extracted = archive.extractfile(members[path])
                assert extracted is not None
                total += gzipped(extracted.read())
        return f"{total / 1024:.1f} KB"
    except (OSError, subprocess.SubprocessError, tarfile.TarError, ValueError, KeyError):
        return "not measured"


def main() -> int:
    assets = widget_assets()
    loader = gzipped(assets["widget.js"].content)
    panel = gzipped(assets["panel.js"].content) + gzipped(assets["panel.css"].content)
    total = loader + panel
    print(f"overture loader (widget.js): {loader / 1024:.1f} KB gzip -9 (budget 4 KB)")
    print(f"overture panel (panel.js + panel.css): {panel / 1024:.1f} KB gzip -9")
    print(f"overture total: {total / 1024:.1f} KB gzip -9 (budget 15 KB)")
    with tempfile.TemporaryDirectory() as folder:
        for package, files in PEERS:
            print(f"{package}: {peer_size(package, files, Path(folder))} gzip -9")
    return 0 if loader <= LOADER_BUDGET and total <= TOTAL_BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
