"""Exact and near duplicates among a dataset's images, without comparing every pair.

Exact duplicates share a content hash (BLAKE2b of the file's bytes or of the
array's bytes). Near duplicates have perceptual hashes within a Hamming
distance: the hash is ``imagehash.phash`` (64 bits from the DCT of a 32x32
grayscale thumbnail), computed here for a whole batch of thumbnails at once
with the same steps, so 50,000 images cost one vectorised DCT rather than
50,000 calls. Near pairs are found in :mod:`cnnlab.data.health_near`.
"""

from __future__ import annotations

import hashlib

import numpy as np

PHASH_SIDE = 32  # imagehash.phash: hash_size 8 x highfreq_factor 4
PHASH_BITS = 8
# Rows k < 8 of scipy.fftpack's DCT-II matrix for 32 samples: 2 cos(pi k (2n + 1) / 64).
_DCT_LOW = 2 * np.cos(np.pi * np.arange(PHASH_BITS)[:, None]
                      * (2 * np.arange(PHASH_SIDE)[None, :] + 1) / (2 * PHASH_SIDE))
_BIT_WEIGHTS = (np.uint64(1) << np.arange(63, -1, -1, dtype=np.uint64)).astype(np.uint64)


def content_digest(data: bytes) -> bytes:
    """Return the 16-byte BLAKE2b digest of ``data`` (file bytes or an image's array bytes)."""
    return hashlib.blake2b(data, digest_size=16).digest()


def phash_batch(thumbnails: np.ndarray) -> np.ndarray:
    """Return ``imagehash.phash`` of each 32x32 grayscale thumbnail as a uint64.

    The thumbnails must be what phash resizes to: ``image.convert("L").resize((32, 32),
    Image.LANCZOS)`` as uint8. phash keeps the 8x8 lowest frequencies of the
    2-D DCT-II (scipy's unnormalised one) and sets a bit where a coefficient
    is above their median; only those 64 coefficients are computed here, as
    two matrix products over the whole batch. The bits are in imagehash's
    order (first bit highest), so ``int(str(imagehash.phash(image)), 16)``
    gives the same number (up to ties at the median in rounding, as for a
    blank image).

    Args:
        thumbnails: uint8 array (N, 32, 32).

    Returns:
        uint64 array (N,).

    """
    if not len(thumbnails):
        return np.zeros(0, np.uint64)
    pixels = np.asarray(thumbnails, dtype=np.float64)
    low = (_DCT_LOW @ pixels @ _DCT_LOW.T).reshape(len(pixels), -1)
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
    t = np.asarray(thumbnails, np.uint16)
    total = t[:, 0::2, 0::2] + t[:, 1::2, 0::2] + t[:, 0::2, 1::2] + t[:, 1::2, 1::2]
    return ((total + 2) // 4).astype(np.uint8)
