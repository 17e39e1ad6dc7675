"""Hostile infrastructure code (issue 23): a patch never writes the wrong limit, and code costwise
cannot read is one line (a file given) or one listed file (in a folder), never "internal error".

Every patch goes through the real `git apply --check` and `git apply` in a temporary repository,
and each file after it is compared byte for byte with the same file edited by the test itself
(a plain text replacement of the old number by the recommended one). The recommended numbers come
from `report --demo --format json`, never from the code under test's reading of the files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

BOM = b"\xef\xbb\xbf"
# the CLI runs inside the temporary repository (the patch's paths are relative to it): it must
# still import this checkout's costwise, not whatever is installed
IN_REPO = {"PYTHONPATH": str(REPO)}


@pytest.fixture
def recommended(cli):
    """{environment or cache name: {field: recommended}} for the demo environments."""
    report = json.loads(cli("report", "--demo", "--format", "json").stdout)
    out = {}
    for env in report["environments"]:
        out[env["env"]] = out[env["cache"]] = env["limits"]["recommended"]
    return out


def _repo(tmp_path: Path, files: dict) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    for name, data in files.items():
        path = repo / os.fsdecode(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return repo


def _suggest(repo: Path, *args: str) -> subprocess.CompletedProcess:
    """`costwise suggest --demo` run in `repo`; stdout kept as bytes (text mode would turn the
    file's own CRs into newlines, and the patch would not apply for a reason of the test's)."""
    result = subprocess.run([sys.executable, "-m", "costwise", "suggest", "--demo", *args], cwd=repo,
                            env={**os.environ, **IN_REPO}, capture_output=True, timeout=120)
    result.stderr = result.stderr.decode("utf-8", "replace")
    return result


def _apply(repo: Path, patch: bytes) -> None:
    """`git apply --check`, then `git apply`: both must accept the patch as it is."""
    (repo.parent / "limits.patch").write_bytes(patch)
    for check in (["--check"], []):
        applied = subprocess.run(["git", "apply", *check, str(repo.parent / "limits.patch")], cwd=repo, capture_output=True)
        assert applied.returncode == 0, applied.stderr.decode(errors="replace")


def _edited(data: bytes, *replacements: tuple[bytes, bytes]) -> bytes:
    """The file as the patch must leave it: each old text (found exactly once) replaced by hand."""
    for old, new in replacements:
        assert data.count(old) == 1, old
        data = data.replace(old, new)
    return data


def _n(value) -> bytes:
    return str(value).encode()


# ---- positions come from the bytes git sees --------------------------------------------------


def test_a_byte_order_mark_moves_no_edit(cli, tmp_path, recommended):
    # PowerShell saves templates with a UTF-8 BOM: three bytes before the first character
    prod, dev = recommended["storefront-prod-valkey"], recommended["storefront-dev-valkey"]
    assert (prod["max_storage_gb"], prod["max_ecpu_per_second"], dev["max_storage_gb"]) != (5, 10000, 3)  # something to change
    template_json = BOM + (b'{"Resources": {"ProdCache": {"Type": "AWS::ElastiCache::ServerlessCache", "Properties": {\n'
                           b'  "ServerlessCacheName": "storefront-prod-valkey",\n'
                           b'  "CacheUsageLimits": {"DataStorage": {"Maximum": 5, "Unit": "GB"}, "ECPUPerSecond": {"Maximum": "10000"}}}}}}\n')
    template_yaml = BOM + (b"Resources:\n  DevCache:\n    Type: AWS::ElastiCache::ServerlessCache\n    Properties:\n"
                           b"      ServerlessCacheName: storefront-dev-valkey  # caf\xc3\xa9\n"
                           b"      CacheUsageLimits:\n        DataStorage: {Maximum: 3, Unit: GB}\n")
    stack = BOM + b'env_config = {"prod": {"redis_max_storage_gb": 5}}\n'
    main_tf = BOM + (b'resource "aws_elasticache_serverless_cache" "prod" { # caf\xc3\xa9\n  name = "storefront-prod-valkey"\n'
                     b"  cache_usage_limits {\n    ecpu_per_second { maximum = 10000 }\n  }\n}\n")
    repo = _repo(tmp_path, {"t.json": template_json, "t.yaml": template_yaml, "stack.py": stack, "main.tf": main_tf})
    result = _suggest(repo, "--iac", ".")
    assert result.returncode == 0, result.stderr
    _apply(repo, result.stdout)
    assert (repo / "t.json").read_bytes() == _edited(template_json, (b'"Maximum": 5,', b'"Maximum": ' + _n(prod["max_storage_gb"]) + b","),
                                                     (b'"10000"', b'"' + _n(prod["max_ecpu_per_second"]) + b'"'))
    assert (repo / "t.yaml").read_bytes() == _edited(template_yaml, (b"Maximum: 3,", b"Maximum: " + _n(dev["max_storage_gb"]) + b","))
    assert (repo / "stack.py").read_bytes() == _edited(stack, (b": 5}", b": " + _n(recommended["prod"]["max_storage_gb"]) + b"}"))
    assert (repo / "main.tf").read_bytes() == _edited(main_tf, (b"= 10000 }", b"= " + _n(prod["max_ecpu_per_second"]) + b" }"))


def test_line_breaks_git_does_not_count_move_no_edit_and_no_line(cli, tmp_path, recommended):
    # git ends a line at "\n" only; Python also at CR, YAML also at CR, U+0085, U+2028, U+2029,
    # str.splitlines also at a form feed. Each file holds them all before its limits.
    prod = recommended["prod"]
    ls, ps, nel = "\u2028".encode(), "\u2029".encode(), "\u0085".encode()
    stack = (b"# stack\r\nx = 1\rz = 2\r\n\x0c\ndoc = '" + ls + b" " + ps + b" " + nel + b" \x0c'\r\n"
             b'env_config = {\n    "prod": {"redis_max_storage_gb": 5,  # ' + ls + b"\n"
             b'             "redis_max_ecpu": 10000},\r\n}\n')
    main_tf = (b"# a" + ls + b"b" + ps + b"c\r\n# form\x0cfeed\n"
               b'resource "aws_elasticache_serverless_cache" "prod" {\r\n  name = "storefront-prod-valkey"\n'
               b"  cache_usage_limits {\n    data_storage { maximum = 5 }  # " + ls + b"\n"
               b"    ecpu_per_second { maximum = 10000 }\n  }\n}\n")
    template = (b'Description: "a' + ls + b"b" + ps + b"c" + nel + b'd"\r# YAML: a new line; git: still line 1\r\n'
                b"Resources:\n  Dev:\n    Type: AWS::ElastiCache::ServerlessCache\n    Properties:\n"
                b"      ServerlessCacheName: storefront-dev-valkey\r\n"
                b"      CacheUsageLimits: {DataStorage: {Maximum: 3}}  # " + ls + b"\n")
    repo = _repo(tmp_path, {"stack.py": stack, "main.tf": main_tf, "template.yaml": template})
    result = _suggest(repo, "--iac", ".")
    assert result.returncode == 0, result.stderr
    _apply(repo, result.stdout)
    storage, ecpu = _n(prod["max_storage_gb"]), _n(prod["max_ecpu_per_second"])
    dev_storage = _n(recommended["dev"]["max_storage_gb"])
    assert (repo / "stack.py").read_bytes() == _edited(stack, (b": 5,", b": " + storage + b","), (b": 10000}", b": " + ecpu + b"}"))
    assert (repo / "main.tf").read_bytes() == _edited(main_tf, (b"= 5 }", b"= " + storage + b" }"), (b"= 10000 }", b"= " + ecpu + b" }"))
    assert (repo / "template.yaml").read_bytes() == _edited(template, (b"Maximum: 3}", b"Maximum: " + dev_storage + b"}"))

    # every change is said at git's line: one plus the "\n" bytes before the old number
    originals = {"stack.py": stack, "main.tf": main_tf, "template.yaml": template}
    fresh = _repo(tmp_path / "again", originals)
    changes = json.loads(_suggest(fresh, "--iac", ".", "--format", "json").stdout)["changes"]
    spelled = {("stack.py", "max_storage_gb"): b": 5,", ("stack.py", "max_ecpu_per_second"): b": 10000}",
               ("main.tf", "max_storage_gb"): b"= 5 }", ("main.tf", "max_ecpu_per_second"): b"= 10000 }",
               ("template.yaml", "max_storage_gb"): b"Maximum: 3}"}
    lines = {(c["file"], c["field"]): c["line"] for c in changes}
    assert lines == {key: originals[key[0]].count(b"\n", 0, originals[key[0]].index(old)) + 1 for key, old in spelled.items()}

    # the Markdown report's suggestion blocks: git's line, and the line exactly as git will have
    # it; a line holding what a suggestion block cannot keep (a CR, U+2028) gets none, and says so
    markdown = cli("report", "--demo", "--iac", "main.tf", cwd=fresh, env=IN_REPO).stdout
    tf_line = main_tf.count(b"\n", 0, main_tf.index(b"= 10000 }")) + 1
    assert f"main.tf line {tf_line}`" in markdown
    assert "```suggestion\n    ecpu_per_second { maximum = " + str(prod["max_ecpu_per_second"]) + " }\n```" in markdown
    assert "no suggestion block: the line holds a line separator (U+2028)" in markdown


# ---- a limit that is not a literal of its own is named with why, never edited ---------------


def test_a_limit_that_is_not_its_own_literal_is_named_and_never_edited(tmp_path, recommended):
    shared = (b"Resources:\n  ProdCache:\n    Type: AWS::ElastiCache::ServerlessCache\n    Properties:\n"
              b"      ServerlessCacheName: storefront-prod-valkey\n"
              b"      CacheUsageLimits: &limits\n        DataStorage: {Maximum: 5, Unit: GB}\n        ECPUPerSecond: {Maximum: 10000}\n"
              b"  DevCache:\n    Type: AWS::ElastiCache::ServerlessCache\n    Properties:\n"
              b"      ServerlessCacheName: storefront-dev-valkey\n      CacheUsageLimits: *limits\n")
    scalar = (b"Resources:\n  ProdCache:\n    Type: AWS::ElastiCache::ServerlessCache\n    Properties:\n"
              b"      ServerlessCacheName: storefront-prod-valkey\n"
              b"      CacheUsageLimits: {DataStorage: {Maximum: &gb 5}}\n      Tags: [{Key: max-gb, Value: *gb}]\n")
    merged = (b"Resources:\n  ProdCache:\n    Type: AWS::ElastiCache::ServerlessCache\n    Properties:\n"
              b"      ServerlessCacheName: storefront-prod-valkey\n      Base: &base {Maximum: 5}\n"
              b"      CacheUsageLimits: {DataStorage: {<<: *base, Unit: GB}}\n")
    twice = b'env_config = {"prod": {"redis_max_storage_gb": 5, "redis_max_storage_gb": 6}}\n'  # Python keeps the 6
    dynamic = (b'resource "aws_elasticache_serverless_cache" "prod" {\n  name = "storefront-prod-valkey"\n  cache_usage_limits {\n'
               b'    dynamic "data_storage" {\n      for_each = [1]\n      content { maximum = 5 }\n    }\n  }\n}\n')
    function = (b'{"Resources": {"ProdCache": {"Type": "AWS::ElastiCache::ServerlessCache", "Properties": {\n'
                b'  "ServerlessCacheName": "storefront-prod-valkey",\n'
                b'  "CacheUsageLimits": {"Fn::If": ["Big", {"DataStorage": {"Maximum": 5}}, {"Ref": "AWS::NoValue"}]}}}}}\n')
    spread = (b'BASE = {"redis_max_storage_gb": 5}\nenv_config = {"dev": BASE, "prod": {"redis_max_ecpu": 10000, **BASE},\n'
              b'              "staging": {**BASE, "redis_max_ecpu": 5000}}\n')
    computed = (b'resource "aws_elasticache_serverless_cache" "prod" {\n  name = "storefront-prod-valkey"\n'
                b"  cache_usage_limits {\n    data_storage { maximum = var.gb * 2 }\n  }\n}\n")
    literal = b'env_config = {"staging": {"redis_max_ecpu": 5000}}\n'
    # an anchor nothing refers to, and a tag, leave the number a literal of its own: patched, they kept
    anchored = (b"Resources:\n  StagingCache:\n    Type: AWS::ElastiCache::ServerlessCache\n    Properties:\n"
                b'      ServerlessCacheName: storefront-staging-valkey\n      CacheUsageLimits: {DataStorage: {Maximum: &only !!int "3"}}\n')
    files = {"shared.yaml": shared, "scalar.yaml": scalar, "merged.yaml": merged, "twice.py": twice, "computed.tf": computed,
             "dynamic.tf": dynamic, "function.json": function, "spread.py": spread, "literal.py": literal, "anchored.yaml": anchored}
    repo = _repo(tmp_path, files)
    result = _suggest(repo, "--iac", ".")
    assert result.returncode == 0, result.stderr
    for name, why in (("shared.yaml", "shared through a YAML anchor and alias"), ("scalar.yaml", "shared through a YAML anchor and alias"),
                      ("merged.yaml", "YAML merge key"), ("twice.py", "given twice"), ("computed.tf", "not a number literal"),
                      ("dynamic.tf", "data_storage is a dynamic block"), ("function.json", "CacheUsageLimits is Fn::If"),
                      ("spread.py", "dev: its settings are not a dict literal"), ("spread.py", "prod.redis_max_ecpu: a `**` after it"),
                      ("spread.py", "staging.redis_max_storage_gb: may come through `**`")):
        assert any(line.startswith(f"not matched: {name}: ") and why in line for line in result.stderr.splitlines()), (name, result.stderr)
    assert "no changes" not in result.stderr
    _apply(repo, result.stdout)
    staging = recommended["staging"]
    patched = {"literal.py": _edited(literal, (b"5000", _n(staging["max_ecpu_per_second"]))),
               "spread.py": _edited(spread, (b"5000", _n(staging["max_ecpu_per_second"]))),  # after the `**`: its own
               "anchored.yaml": _edited(anchored, (b'"3"', b'"' + _n(staging["max_storage_gb"]) + b'"'))}
    for name, data in files.items():  # none of the others edited
        assert (repo / name).read_bytes() == patched.get(name, data), name


# ---- a patch header git accepts, whatever the file is called ---------------------------------


def test_any_file_name_gets_a_header_git_applies(tmp_path, recommended):
    # git quotes such names C-style in its own patches ("a/new\nline.tf"), and reads them back so
    names = [b"new\nline.tf", b"tab\there.tf", b"cr\r.tf", b'quo"te.tf', b"back\\slash.tf", b"esc\x1b.tf", b"sp ace.tf",
             b" lead.tf", b"trail .tf", "n\u00efve \u2028.tf".encode(), b"latin\xe9.tf"]
    tf = (b'resource "aws_elasticache_serverless_cache" "prod" {\n  name = "storefront-prod-valkey"\n'
          b"  cache_usage_limits {\n    data_storage { maximum = 5 }\n  }\n}\n")
    repo = _repo(tmp_path, {b"infra/" + name: tf for name in names})
    result = _suggest(repo, "--iac", "infra")
    assert result.returncode == 0, result.stderr
    _apply(repo, result.stdout)
    patched = _edited(tf, (b"= 5 }", b"= " + _n(recommended["prod"]["max_storage_gb"]) + b" }"))
    assert sorted(os.listdir(os.fsencode(repo / "infra"))) == sorted(names)  # no file created beside them
    for name in names:
        assert (repo / os.fsdecode(b"infra/" + name)).read_bytes() == patched, name


# ---- a folder is read whole; "no changes" only when it was ----------------------------------


PROD_TF = (b'resource "aws_elasticache_serverless_cache" "prod" {\n  name = "storefront-prod-valkey"\n'
           b"  cache_usage_limits {\n    data_storage { maximum = %d }\n  }\n}\n")


def test_a_folder_is_read_whole_and_unrelated_files_are_counted_not_fatal(tmp_path, recommended):
    files = {f"infra/m{i:04d}.tf": b'variable "v%d" {}\n' % i for i in range(2500)}  # more than the old cap of 2,000
    files["infra/zz.tf"] = PROD_TF % 5  # sorted after all of them
    files["infra/package-lock.json"] = json.dumps({"packages": {f"p{i}": {"version": "1.0.0"} for i in range(120_000)}}).encode()
    files["infra/tools/latin.py"] = "# caf\u00e9\nprint('d\u00e9j\u00e0')\n".encode("latin-1")
    files["infra/blob.yaml"] = bytes(range(256)) * 64
    files["infra/old.py"] = b"print 'python 2'\n"
    assert len(files["infra/package-lock.json"]) > 2 << 20  # larger than an IaC file costwise parses
    repo = _repo(tmp_path, files)
    os.mkfifo(repo / "infra" / "pipe.tf")  # never opened: an open would wait for a writer forever
    result = _suggest(repo, "--iac", "infra")
    assert result.returncode == 0, result.stderr
    assert "skipped: infra/pipe.tf: a FIFO, never opened" in result.stderr and "not read:" not in result.stderr
    _apply(repo, result.stdout)
    assert (repo / "infra" / "zz.tf").read_bytes() == PROD_TF % recommended["prod"]["max_storage_gb"]

    fifo = _suggest(repo, "--iac", "infra/pipe.tf")
    assert fifo.returncode == 2 and fifo.stderr.strip() == "costwise: error: infra/pipe.tf: is a FIFO, not a regular file; --iac takes a file or a folder"


def test_no_changes_is_said_only_when_every_file_was_read(tmp_path, recommended):
    done = PROD_TF % recommended["prod"]["max_storage_gb"]  # already what costwise recommends
    unreadable = ("# caf\u00e9\n" + (PROD_TF % 5).decode()).encode("latin-1")  # mentions a cache: may hold limits
    repo = _repo(tmp_path, {"infra/prod.tf": done, "infra/old/legacy.tf": unreadable})
    result = _suggest(repo, "--iac", "infra")
    assert result.returncode == 0 and result.stdout == b"", result.stderr
    assert "not read: infra/old/legacy.tf: not UTF-8 text" in result.stderr
    assert "no changes:" not in result.stderr and "not every file was read (1 not read" in result.stderr
    (repo / "infra" / "old" / "legacy.tf").unlink()
    result = _suggest(repo, "--iac", "infra")
    assert "no changes: every limit in the code is what costwise recommends (1 file read)" in result.stderr, result.stderr


# ---- code costwise cannot read: one line and exit 2 for a file, one listed file in a folder --


def _template(maximum: bytes) -> bytes:
    return (b'{"Resources": {"ProdCache": {"Type": "AWS::ElastiCache::ServerlessCache", "Properties": {\n'
            b'  "ServerlessCacheName": "storefront-prod-valkey",\n  "CacheUsageLimits": {"DataStorage": {"Maximum": ' + maximum + b"}}}}}}\n")


UNREADABLE = {
    "nan.json": (_template(b"NaN"), "not a finite number"),
    "inf.json": (_template(b"-Infinity"), "not a finite number"),
    "huge.json": (_template(b"1e999"), "not a finite number"),  # finite text, infinite as a float
    "nan.yaml": (_template(b".nan").replace(b"{\n", b"{ "), "not a finite number"),
    "inf.yaml": (b"Resources:\n  C:\n    Type: AWS::ElastiCache::ServerlessCache\n    Properties:\n"
                 b"      ServerlessCacheName: x\n      CacheUsageLimits: {ECPUPerSecond: {Maximum: .inf}}\n", "not a finite number"),
    "sum.py": (b"total = " + b" + ".join([b"1"] * 300_000) + b'\nenv_config = {"prod": {"redis_max_storage_gb": 5}}\n',
               "nested too deeply or too large"),
    "sum.tf": (b'resource "aws_elasticache_serverless_cache" "x" {\n  name = "x"\n  description = ' + b" + ".join([b"1"] * 300_000) + b"\n}\n",
               "tokens, more than the 120,000"),  # bounded before parsing: python-hcl2 would take a minute
    "chain.py": (b"x = a" + b".b" * 100_000 + b'\nenv_config = {"prod": {"redis_max_storage_gb": 5}}\n', "nested too deeply or too large"),
}


def test_code_costwise_cannot_read_is_one_line_never_an_internal_error(tmp_path, recommended):
    repo = _repo(tmp_path, {f"infra/{name}": data for name, (data, _) in UNREADABLE.items()})
    for name, (_, why) in UNREADABLE.items():
        result = _suggest(repo, "--iac", f"infra/{name}")
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1, (name, result.stderr)
        assert lines[0].startswith(f"costwise: error: infra/{name}: ") and why in lines[0], (name, lines[0])
    # in a folder each is one "not read" line, and the rest is still patched
    (repo / "infra" / "prod.tf").write_bytes(PROD_TF % 5)
    result = _suggest(repo, "--iac", "infra")
    assert result.returncode == 0, result.stderr
    not_read = [line for line in result.stderr.splitlines() if line.startswith("not read: ")]
    assert sorted(line.split(": ")[1] for line in not_read) == sorted(f"infra/{name}" for name in UNREADABLE)
    assert "internal error" not in result.stderr and "no changes" not in result.stderr
    _apply(repo, result.stdout)
    assert (repo / "infra" / "prod.tf").read_bytes() == PROD_TF % recommended["prod"]["max_storage_gb"]


def test_nesting_at_any_depth_is_read_or_refused_by_name(tmp_path, monkeypatch):
    import yaml

    from costwise.errors import InputError
    from costwise.iac import read_iac

    # a limit written as a deeply nested expression is a limit costwise cannot patch: named, not a crash
    deep_tf = tmp_path / "deep.tf"
    deep_tf.write_text('resource "aws_elasticache_serverless_cache" "prod" {\n  name = "storefront-prod-valkey"\n'
                       "  cache_usage_limits {\n    data_storage { maximum = " + "(" * 20_000 + "5" + ")" * 20_000 + " }\n  }\n}\n")
    (found,) = read_iac(deep_tf).files
    assert found.sites == [] and found.unmatched == ["aws_elasticache_serverless_cache.prod: data_storage.maximum is not a number literal"]
    # without libyaml PyYAML composes by recursion: deep nesting is this file's error, said by name
    monkeypatch.delattr(yaml, "CSafeLoader")
    deep_yaml = tmp_path / "deep.yaml"
    deep_yaml.write_text("Resources:\n  C:\n    Type: AWS::ElastiCache::ServerlessCache\n    Properties:\n      Tags: "
                         + "[" * 5_000 + "]" * 5_000 + "\n")
    with pytest.raises(InputError, match=r"deep\.yaml: nested too deeply or too large for costwise to read as cloudformation"):
        read_iac(deep_yaml)
