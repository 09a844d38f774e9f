"""Where an index's bytes go: per field, the postings and the term index; the stored fields;
each column (field lengths, sort and facet columns); against the raw text.

Raw text is title, summary and body as UTF-8, as ``bench/scale.py`` counts it, read here
from the index's own stored fields (so any index can be measured, whatever it was built from).

    python bench/index_size.py bench/out/relevance/vietnews-20000/vnsearch
    python bench/index_size.py DIR --stored-sample 2000   # attribute stored bytes on a sample
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import zlib
from collections import defaultdict
from pathlib import Path

import common
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3TermInfo
from whoosh.filedb import filetables
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.structfile import StructFile

from vnsearch.engines.whoosh import schema as vn_schema  # noqa: F401  (installs the schema alias)
from vnsearch.engines.whoosh.store import INDEX_NAME

RAW_FIELDS = ("title", "summary", "body")


def segment_parts(path: Path) -> dict[str, int]:
    """The files inside one compound segment file and their sizes: {'.trm': n, '._stored.col': n, ...}."""
    with open(path, "rb") as handle:
        storage = CompoundStorage(StructFile(handle), use_mmap=False)
        prefix = path.stem
        parts = {name[len(prefix):]: info["length"] for name, info in storage._dir.items()}
        storage.close()
    return parts


def term_index_by_field(path: Path, trm_name: str) -> tuple[dict, dict, dict, int]:
    """Per field: term index bytes (keys and term infos), out-of-line posting bytes, terms;
    plus the term index's total size (its hash table and directory are the difference)."""
    index_bytes, posting_bytes, terms = defaultdict(int), defaultdict(int), defaultdict(int)
    with open(path, "rb") as handle:
        storage = CompoundStorage(StructFile(handle), use_mmap=False)
        dbfile = storage.open_file(trm_name)
        length = storage._dir[trm_name]["length"]
        table = filetables.OrderedHashReader(dbfile, length)
        names = {num: name for name, num in table.extras["fieldmap"].items()}
        for key, value in table.items():
            field = names[int.from_bytes(key[:2], "big")]
            index_bytes[field] += len(key) + len(value)
            terms[field] += 1
            info = W3TermInfo.from_bytes(value)
            if not info.is_inlined():
                extent = info.extent()[1]  # whoosh3 decodes it as a 1-tuple
                posting_bytes[field] += extent[0] if isinstance(extent, tuple) else extent
        table.close()
        storage.close()
    return index_bytes, posting_bytes, terms, length


def stored_attribution(ix, sample: int) -> dict[str, float]:
    """Each stored field's share of the stored bytes, from a sample of documents: each
    document's fields pickled and compressed one by one, shares scaled to the whole."""
    sizes = defaultdict(int)
    with ix.searcher() as searcher:
        reader = searcher.reader()
        for n, docnum in enumerate(reader.all_doc_ids()):
            if n >= sample:
                break
            for name, value in reader.stored_fields(docnum).items():
                sizes[name] += len(zlib.compress(pickle.dumps(value, 4), 3))
    total = sum(sizes.values()) or 1
    return {name: size / total for name, size in sizes.items()}


def raw_text_bytes(ix) -> tuple[int, int]:
    """(bytes of title+summary+body as UTF-8 over live documents, live documents)."""
    raw = docs = 0
    with ix.searcher() as searcher:
        for stored in searcher.reader().all_stored_fields():
            raw += sum(len((stored.get(name) or "").encode("utf-8")) for name in RAW_FIELDS)
            docs += 1
    return raw, docs


def measure(index_dir: Path, sample: int) -> None:
    ix = whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)
    total_disk = sum(f.stat().st_size for f in index_dir.iterdir() if f.is_file())
    parts: dict[str, int] = defaultdict(int)
    index_bytes, posting_bytes, terms = defaultdict(int), defaultdict(int), defaultdict(int)
    trm_total = 0
    segments = ix._segments()
    for segment in segments:
        path = index_dir / f"{INDEX_NAME}_{segment.segid}.seg"
        for ext, size in segment_parts(path).items():
            parts[ext] += size
        ib, pb, tc, trm = term_index_by_field(path, f"{INDEX_NAME}_{segment.segid}.trm")
        trm_total += trm
        for field in ib:
            index_bytes[field] += ib[field]
            posting_bytes[field] += pb[field]
            terms[field] += tc[field]
    raw, docs = raw_text_bytes(ix)
    shares = stored_attribution(ix, sample)

    def mb(n: float) -> str:
        return f"{n / 1e6:9.2f}"

    print(f"index {index_dir}: {docs:,} live documents, {len(segments)} segments, {total_disk / 1e6:.1f} MB on disk")
    print(f"raw text (title+summary+body, UTF-8): {raw / 1e6:.1f} MB; ratio {total_disk / raw:.2f}x\n")
    print("terms: one entry per segment holding the term; a term of one posting in a segment is kept in the\n"
          "term index (its 'term idx' bytes), the others in the postings file (their 'postings')")
    print(f"{'field':<16}{'terms':>10}{'postings MB':>13}{'term idx MB':>13}{'x raw':>8}")
    for field in sorted(index_bytes, key=lambda f: -(index_bytes[f] + posting_bytes[f])):
        both = index_bytes[field] + posting_bytes[field]
        print(f"{field:<16}{terms[field]:>10,}{mb(posting_bytes[field]):>13}{mb(index_bytes[field]):>13}"
              f"{both / raw:>8.3f}")
    pst = parts.pop(".pst", 0)
    trm = parts.pop(".trm", 0)
    print(f"{'(postings file)':<16}{'':>10}{mb(pst):>13}{mb(trm):>13}{(pst + trm) / raw:>8.3f}"
          f"   term index overhead (hash table, directory): {mb(trm_total - sum(index_bytes.values())).strip()} MB")
    print(f"\n{'column':<28}{'MB':>9}{'x raw':>8}")
    stored = parts.get("._stored.col", 0)
    for ext, size in sorted(parts.items(), key=lambda item: -item[1]):
        print(f"{ext:<28}{mb(size)}{size / raw:>8.3f}")
    print(f"\nstored fields ({mb(stored).strip()} MB, zlib per document), share by field "
          f"(each compressed alone, {sample:,}-document sample):")
    for name, share in sorted(shares.items(), key=lambda item: -item[1]):
        print(f"  {name:<12}{share:6.1%}  ~{mb(stored * share).strip()} MB")
    toc = sum(f.stat().st_size for f in index_dir.iterdir() if f.is_file() and not f.name.endswith(".seg"))
    print(f"\ntables of contents and locks: {toc / 1e3:.1f} kB")
    print(f"TOTAL {total_disk / 1e6:.1f} MB = {total_disk / raw:.2f}x the raw text ({raw / 1e6:.1f} MB)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index_dir", type=Path, nargs="?",
                        default=common.OUT / "relevance" / "vietnews-20000" / "vnsearch")
    parser.add_argument("--stored-sample", type=int, default=1000, help="documents sampled to split the stored bytes")
    args = parser.parse_args(argv)
    if not args.index_dir.is_dir():
        sys.exit(f"index_size: no index at {args.index_dir}")
    common.print_header("Index size by field", f"index {args.index_dir}")
    measure(args.index_dir, args.stored_sample)
    common.print_footer()


if __name__ == "__main__":
    main()
