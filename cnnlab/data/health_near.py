"""Near duplicates: images whose perceptual hashes and small thumbnails both agree.

Candidate pairs come from multi-index hashing: the 64 bits of a phash are cut
into ``threshold + 1`` chunks, and two hashes within ``threshold`` bits agree
exactly on at least one chunk (pigeonhole), so only hashes that share a chunk
value are compared, never all pairs. A candidate is near only if its 16x16
grayscale thumbnails also agree: small simple images (the shapes dataset)
share hashes without being copies. Everything is vectorised; Python loops run
only over images that share a hash and over the pairs found.
"""

from __future__ import annotations

import numpy as np

NEAR_THRESHOLD = 6  # slightly noised copies of 16-32 px images: 99% within 6 bits
NEAR_PIXEL_DIFFERENCE = 5.0  # mean absolute difference of 16x16 thumbnails, 0..255
SHORT_RUN = 64  # buckets up to this size are paired by offsets; larger ones by blocks
_PAIRS_AT_ONCE = 1 << 22  # candidate pairs of a large bucket or thumbnail pairs at a time


def near_groups(hashes: np.ndarray, thumbnails: np.ndarray, threshold: int = NEAR_THRESHOLD,
                max_difference: float = NEAR_PIXEL_DIFFERENCE) -> list[list[int]]:
    """Return index groups of images that look alike: close hashes and close thumbnails.

    A pair is near when its perceptual hashes lie within ``threshold`` bits
    and its 16x16 grayscale thumbnails differ by at most ``max_difference``
    (mean absolute difference, 0..255). Groups are connected components
    (a ~ b and b ~ c put a, b, c together). Images with the same hash are
    clustered greedily (each joins the first alike cluster), and two hashes
    are compared through the first image of each.

    Args:
        hashes: uint64 perceptual hashes (N,).
        thumbnails: uint8 (N, 16, 16), see :func:`~cnnlab.data.health_duplicates.small_thumbnails`.
        threshold: Largest Hamming distance of a near pair; below 0, no groups.
        max_difference: Largest mean absolute pixel difference of a near pair.

    Returns:
        Groups of two or more indices, each sorted, in order of their first index.

    """
    if threshold < 0 or len(hashes) < 2:
        return []
    unique, first, inverse, counts = np.unique(np.asarray(hashes, np.uint64), return_index=True,
                                               return_inverse=True, return_counts=True)
    pixels = np.asarray(thumbnails, np.int16).reshape(len(hashes), -1)
    limit = max_difference * pixels.shape[1]
    parent = np.arange(len(hashes))
    _cluster_equal_hashes(parent, pixels, inverse.reshape(-1), np.flatnonzero(counts > 1), limit)
    i, j = _close_pairs(unique, threshold)
    a, b = first[i], first[j]
    for x, y in zip(*_alike(pixels, a, b, limit), strict=True):
        _union(parent, int(x), int(y))
    roots = np.array([_find(parent, k) for k in range(len(hashes))])
    grouped = np.flatnonzero(np.bincount(roots, minlength=len(hashes))[roots] > 1)
    components: dict[int, list[int]] = {}
    for index in grouped.tolist():
        components.setdefault(int(roots[index]), []).append(index)
    return sorted(components.values(), key=lambda m: m[0])


def _cluster_equal_hashes(parent: np.ndarray, pixels: np.ndarray, inverse: np.ndarray,
                          shared: np.ndarray, limit: float) -> None:
    """Cluster the images of every hash that several images share."""
    if not len(shared):
        return
    chosen = np.flatnonzero(np.isin(inverse, shared))
    chosen = chosen[np.argsort(inverse[chosen], kind="stable")]
    cuts = np.flatnonzero(np.diff(inverse[chosen])) + 1
    for group in np.split(chosen, cuts):
        leaders = [int(group[0])]
        for index in group[1:].tolist():
            distance = np.abs(pixels[leaders] - pixels[index]).sum(axis=1)
            hits = np.flatnonzero(distance <= limit)
            if len(hits):
                _union(parent, leaders[int(hits[0])], index)
            else:
                leaders.append(index)


def _alike(pixels: np.ndarray, a: np.ndarray, b: np.ndarray, limit: float
           ) -> tuple[np.ndarray, np.ndarray]:
    """The pairs ``(a[k], b[k])`` whose thumbnails differ by at most ``limit`` in all."""
    keep = np.zeros(len(a), bool)
    step = _PAIRS_AT_ONCE // pixels.shape[1]
    for start in range(0, len(a), step):
        part = slice(start, start + step)
        keep[part] = np.abs(pixels[a[part]] - pixels[b[part]]).sum(axis=1) <= limit
    return a[keep], b[keep]


def _close_pairs(unique: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``i < j`` of the (distinct) hashes within ``threshold`` bits, each once."""
    edges = np.linspace(0, 64, threshold + 2).round().astype(int)
    found_i, found_j = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        keys = (unique >> np.uint64(64 - hi)) & np.uint64((1 << (hi - lo)) - 1)
        order = np.argsort(keys, kind="stable")
        for i, j in _bucket_pairs(order, keys[order]):
            close = np.bitwise_count(unique[i] ^ unique[j]) <= threshold
            found_i.append(np.minimum(i, j)[close])
            found_j.append(np.maximum(i, j)[close])
    i, j = np.concatenate(found_i), np.concatenate(found_j)
    key = np.sort(i * len(unique) + j)
    key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key
    return key // len(unique), key % len(unique)


def _bucket_pairs(order: np.ndarray, sorted_keys: np.ndarray):
    """Yield index-array pairs ``(i, j)`` covering every pair inside each bucket of equal keys."""
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    ends = np.r_[starts[1:], len(order)]
    lengths = ends - starts
    run_end = np.repeat(ends, lengths)
    short = np.repeat(lengths <= SHORT_RUN, lengths)
    position = np.arange(len(order))
    longest = int(lengths[lengths <= SHORT_RUN].max(initial=1))
    for offset in range(1, longest):
        p = position[short & (position + offset < run_end)]
        yield order[p], order[p + offset]
    for start, end in zip(starts[lengths > SHORT_RUN], ends[lengths > SHORT_RUN], strict=True):
        bucket = order[start:end]
        rows = max(1, _PAIRS_AT_ONCE // len(bucket))
        for row in range(0, len(bucket), rows):
            i, j = _block_pairs(len(bucket), row, rows)
            yield bucket[i], bucket[j]


def _block_pairs(n: int, row: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j), i < j, of the rows ``row .. row + rows`` of an n x n triangle."""
    i = np.repeat(np.arange(row, min(row + rows, n)), n)
    j = np.tile(np.arange(n), len(i) // n)
    keep = i < j
    return i[keep], j[keep]


def _find(parent: np.ndarray, i: int) -> int:
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:  # path compression
        parent[i], i = root, parent[i]
    return int(root)


def _union(parent: np.ndarray, a: int, b: int) -> None:
    ra, rb = _find(parent, a), _find(parent, b)
    if ra != rb:
        parent[max(ra, rb)] = min(ra, rb)
