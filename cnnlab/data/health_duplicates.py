"""Exact and near duplicates among a dataset's images, without comparing every pair.

Exact duplicates share a content hash (BLAKE2b of the file's bytes or of the
array's bytes). Near duplicates have perceptual hashes within a Hamming
distance: the hash is ``imagehash.phash`` (64 bits from the DCT of a 32x32
grayscale thumbnail), computed here for a whole batch of thumbnails at once
with the same steps, so 50,000 images cost one vectorised DCT rather than
50,000 calls. Candidate pairs come from multi-index hashing: the 64 bits are
cut into ``threshold + 1`` chunks, and two hashes within ``threshold`` bits
agree exactly on at least one chunk (pigeonhole), so only hashes that share a
chunk value are compared, and a compared pair is near only if its small
grayscale thumbnails also agree (simple images such as the shapes dataset
share hashes without being copies).
"""

from __future__ import annotations

import hashlib

import numpy as np

PHASH_SIDE = 32  # imagehash.phash: hash_size 8 x highfreq_factor 4
PHASH_BITS = 8
NEAR_THRESHOLD = 4
NEAR_PIXEL_DIFFERENCE = 5.0  # mean absolute difference of 16x16 thumbnails, 0..255
_BIT_WEIGHTS = (np.uint64(1) << np.arange(63, -1, -1, dtype=np.uint64)).astype(np.uint64)
_BLOCK = 2048  # members compared at a time inside one chunk bucket (bounded memory)


def content_digest(data: bytes) -> bytes:
    """Return the 16-byte BLAKE2b digest of ``data`` (file bytes or an image's array bytes)."""
    return hashlib.blake2b(data, digest_size=16).digest()


def phash_batch(thumbnails: np.ndarray) -> np.ndarray:
    """Return ``imagehash.phash`` of each 32x32 grayscale thumbnail as a uint64.

    The thumbnails must be what phash resizes to: ``image.convert("L").resize((32, 32),
    Image.LANCZOS)`` as uint8. The bits are in imagehash's order (first bit highest), so
    ``int(str(imagehash.phash(image)), 16)`` gives the same number.

    Args:
        thumbnails: uint8 array (N, 32, 32).

    Returns:
        uint64 array (N,).

    """
    import scipy.fftpack

    if not len(thumbnails):
        return np.zeros(0, np.uint64)
    pixels = np.asarray(thumbnails, dtype=np.float64)
    dct = scipy.fftpack.dct(scipy.fftpack.dct(pixels, axis=1), axis=2)
    low = dct[:, :PHASH_BITS, :PHASH_BITS].reshape(len(pixels), -1)
    bits = low > np.median(low, axis=1, keepdims=True)
    return (bits.astype(np.uint64) * _BIT_WEIGHTS).sum(axis=1, dtype=np.uint64)


def exact_groups(digests: list[bytes]) -> list[list[int]]:
    """Return the index groups (two or more members) of equal digests, in first-seen order."""
    by_digest: dict[bytes, list[int]] = {}
    for index, digest in enumerate(digests):
        by_digest.setdefault(digest, []).append(index)
    return [members for members in by_digest.values() if len(members) > 1]


def small_thumbnails(thumbnails: np.ndarray) -> np.ndarray:
    """Return 16x16 uint8 averages of 32x32 phash thumbnails: the pixels a near pair must share."""
    if not len(thumbnails):
        return np.zeros((0, 16, 16), np.uint8)
    blocks = np.asarray(thumbnails, np.float32).reshape(-1, 16, 2, 16, 2)
    return blocks.mean(axis=(2, 4)).round().astype(np.uint8)


def near_groups(hashes: np.ndarray, thumbnails: np.ndarray, threshold: int = NEAR_THRESHOLD,
                max_difference: float = NEAR_PIXEL_DIFFERENCE) -> list[list[int]]:
    """Return index groups of images that look alike: close hashes and close thumbnails.

    A pair is near when its perceptual hashes lie within ``threshold`` bits
    and its 16x16 grayscale thumbnails differ by at most ``max_difference``
    (mean absolute difference, 0..255): small simple images (the shapes
    dataset) share hashes without being copies, and the thumbnails tell them
    apart. Groups are connected components (a ~ b and b ~ c put a, b, c
    together). Images with the same hash are compared with one member per
    cluster found so far, so a thousand blank images cost a thousand
    comparisons, not a million.

    Args:
        hashes: uint64 perceptual hashes (N,).
        thumbnails: uint8 (N, 16, 16), see :func:`small_thumbnails`.
        threshold: Largest Hamming distance of a near pair; below 0, no groups.
        max_difference: Largest mean absolute pixel difference of a near pair.

    Returns:
        Groups of two or more indices, each sorted, in order of their first index.

    """
    if threshold < 0 or len(hashes) < 2:
        return []
    unique, inverse = np.unique(np.asarray(hashes, np.uint64), return_inverse=True)
    order = np.argsort(inverse.reshape(-1), kind="stable")
    bounds = np.searchsorted(inverse.reshape(-1)[order], np.arange(len(unique) + 1))
    members = [order[bounds[k]:bounds[k + 1]] for k in range(len(unique))]
    pixels = np.asarray(thumbnails, np.int16).reshape(len(hashes), -1)
    parent = np.arange(len(hashes))
    limit = max_difference * pixels.shape[1]
    for group in members:
        if len(group) > 1:
            _leaders(parent, pixels, group, limit)
    for a, b in _close_pairs(unique, threshold):
        _join_alike(parent, pixels, members[a], members[b], limit)
    components: dict[int, list[int]] = {}
    for index in range(len(hashes)):
        components.setdefault(_find(parent, index), []).append(index)
    return sorted((m for m in components.values() if len(m) > 1), key=lambda m: m[0])


def _join_alike(parent: np.ndarray, pixels: np.ndarray, left: np.ndarray, right: np.ndarray,
                limit: float) -> None:
    """Join every member of ``right`` to an alike cluster leader of ``left`` (or to its own)."""
    if len(left) == 1 and len(right) == 1:
        if left[0] != right[0] and np.abs(pixels[left[0]] - pixels[right[0]]).sum() <= limit:
            _union(parent, int(left[0]), int(right[0]))
        return
    leaders = _leaders(parent, pixels, left, limit)
    for index in right:
        distance = np.abs(pixels[leaders] - pixels[index]).sum(axis=1)
        hits = np.flatnonzero(distance <= limit)
        for hit in hits[:1]:
            _union(parent, int(leaders[hit]), int(index))


def _leaders(parent: np.ndarray, pixels: np.ndarray, group: np.ndarray, limit: float
             ) -> np.ndarray:
    """Cluster ``group`` greedily: a member joins the first alike leader or leads a cluster."""
    leaders = [int(group[0])]
    for index in group[1:]:
        distance = np.abs(pixels[leaders] - pixels[index]).sum(axis=1)
        hits = np.flatnonzero(distance <= limit)
        if len(hits):
            _union(parent, leaders[int(hits[0])], int(index))
        else:
            leaders.append(int(index))
    return np.array(leaders, dtype=np.int64)


def _close_pairs(unique: np.ndarray, threshold: int):
    """Yield ``(i, j)`` index pairs of distinct hashes within ``threshold`` bits."""
    chunks = threshold + 1
    edges = np.linspace(0, 64, chunks + 1).round().astype(int)
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        mask = np.uint64((1 << (hi - lo)) - 1)
        keys = (unique >> np.uint64(64 - hi)) & mask
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        ends = np.r_[starts[1:], len(order)]
        for start, end in zip(starts, ends, strict=True):
            if end - start > 1:
                yield from _pairs_in_bucket(unique, order[start:end], threshold)


def _pairs_in_bucket(unique: np.ndarray, bucket: np.ndarray, threshold: int):
    """Yield the close pairs among the hashes of one bucket, a block of rows at a time."""
    values = unique[bucket]
    for start in range(0, len(bucket), _BLOCK):
        rows = values[start:start + _BLOCK]
        distance = np.bitwise_count(rows[:, None] ^ values[None, :])
        i, j = np.nonzero(distance <= threshold)
        i = i + start
        keep = i < j
        yield from zip(bucket[i[keep]].tolist(), bucket[j[keep]].tolist(), strict=True)


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
