#!/usr/bin/env python3
"""Dependencies point one way: reads the `import` lines of every target under Sources/ and fails when a target
imports one that the order below puts at its own level or above it, or when the numeric side imports anything
of the systems side. Run by `make test`; `scripts/test-check-imports.sh` proves it fails on a wrong import.

    python3 scripts/check-imports.py [REPOSITORY]
"""
import os
import re
import sys

# Lowest first. A target may import only targets of a lower level.
LEVELS = [
    ["CPlatform", "CSystemd", "CSodium", "CCurl", "CKernels", "CBuildInfo"],
    ["Platform", "Sodium", "GGUF", "JSON", "Arguments", "BuildInfo"],
    ["Kernels", "Tokenizer", "Systemd", "Telemetry", "HTTP", "Config", "Bundles", "Net"],
    ["Inference", "Store", "Sync"],
    ["Serving"],
    ["Agent"],
    ["outpostd", "outpost"],
]
# The numeric side (model files, kernels, tokenizers, inference) imports nothing from the systems side.
NUMERIC = {"GGUF", "CKernels", "Kernels", "Tokenizer", "Inference", "GPU"}
SYSTEMS = {"CPlatform", "CSystemd", "CSodium", "CCurl", "Platform", "Sodium", "Bundles", "Store", "Net", "Sync", "Systemd", "Telemetry", "HTTP", "Config", "Serving",
           "Agent", "JSON", "Arguments", "BuildInfo", "CBuildInfo"}
# The CLI talks to the agent over its socket; it does not link the agent.
FORBIDDEN = {("outpost", "Agent")}
# What the toolchain provides.
TOOLCHAIN = {"Foundation", "FoundationEssentials", "Dispatch", "Synchronization", "Glibc", "Musl", "XCTest", "Testing",
             "PackageDescription", "_Concurrency"}

IMPORT = re.compile(r"^\s*(?:@[\w()]+\s+)*import\s+(?:(?:struct|class|enum|func|protocol|typealias|var|let)\s+)?([A-Za-z_]\w*)")


def level_of(target):
    for index, names in enumerate(LEVELS):
        if target in names:
            return index
    return None


def main(root):
    sources = os.path.join(root, "Sources")
    problems = []
    for target in sorted(os.listdir(sources)):
        directory = os.path.join(sources, target)
        if not os.path.isdir(directory):
            continue
        own = level_of(target)
        if own is None:
            problems.append(f"{target}: not in the dependency order of scripts/check-imports.py; add it to a level")
            continue
        for folder, _, files in os.walk(directory):
            for name in sorted(files):
                if not name.endswith(".swift"):
                    continue
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as f:
                    for number, line in enumerate(f, 1):
                        m = IMPORT.match(line)
                        if not m:
                            continue
                        module = m.group(1)
                        where = f"{os.path.relpath(path, root)}:{number}"
                        if module in TOOLCHAIN or module == target:
                            continue
                        level = level_of(module)
                        if level is None:
                            problems.append(f"{where}: {target} imports {module}, which is neither a target nor the toolchain's")
                        elif level >= own:
                            problems.append(f"{where}: {target} (level {own}) imports {module} (level {level}); "
                                            f"imports must point down the order")
                        elif target in NUMERIC and module in SYSTEMS:
                            problems.append(f"{where}: {target} is on the numeric side and imports {module} from the systems side")
                        elif (target, module) in FORBIDDEN:
                            problems.append(f"{where}: {target} must not import {module}")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"check-imports: {len(problems)} import(s) against the dependency order", file=sys.stderr)
        return 1
    print("check-imports: every import points down the dependency order")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
