"""Image sizes from file headers: real encoded files, and bombs refused before decoding."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import struct

import numpy as np

from cnnlab.data import preflight_folder
from cnnlab.data.image_header import content_problem, declared_size, image_format


def encoded(kind, shape=(12, 20, 3)):
    import tensorflow as tf

    image = np.full(shape, 90, np.uint8)
    return (tf.io.encode_png if kind == "png" else tf.io.encode_jpeg)(image).numpy()


def patch_jpeg_size(data: bytes, height: int, width: int) -> bytes:
    """Rewrite the SOF0 segment's height and width (what a JPEG bomb does)."""
    at = data.index(b"\xff\xc0")
    return data[: at + 5] + struct.pack(">HH", height, width) + data[at + 9 :]


def test_sizes_of_real_and_crafted_headers():
    assert declared_size(encoded("png")) == (12, 20)
    assert declared_size(encoded("jpeg")) == (12, 20)
    gif = b"GIF89a" + struct.pack("<HH", 20, 12) + b"\0" * 8
    bmp = b"BM" + b"\0" * 12 + struct.pack("<Iii", 40, 20, -12) + b"\0" * 8
    webp = (b"RIFF\0\0\0\0WEBPVP8X" + b"\0" * 8 + (19).to_bytes(3, "little")
            + (11).to_bytes(3, "little"))
    assert [declared_size(d) for d in (gif, bmp, webp)] == [(12, 20)] * 3
    assert image_format(encoded("jpeg")) == "jpeg" and image_format(b"hello") is None
    assert declared_size(b"\x89PNG\r\n\x1a\n") is None, "a header cut short is left to the decoder"
    assert content_problem(encoded("png")) is None


def test_a_jpeg_bomb_is_refused_before_decoding(tmp_path):
    root = tmp_path / "data"
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        (root / name / "ok.jpg").write_bytes(encoded("jpeg"))
    (root / "a" / "bomb.jpg").write_bytes(patch_jpeg_size(encoded("jpeg"), 50000, 60000))
    report = preflight_folder(root)
    assert report.counts == {"a": 1, "b": 1}
    assert report.bad_files == [(str(root / "a" / "bomb.jpg"),
                                 "too many pixels: the header declares 50000x60000 (3000 "
                                 "megapixels; the limit is 50)")]
