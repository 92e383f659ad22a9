"""The text hash behind customer partitions, against a by-hand implementation of its definition."""

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from pipeline.data.hashing import VECTOR_BYTES, text_hashes

MASK = (1 << 64) - 1


def by_hand(text: str | None) -> int:
    """FNV-1a 64 over the UTF-8 bytes, the byte count xor-ed in, the splitmix64 finaliser."""
    data = ("" if text is None else text).encode()
    value = 0xCBF29CE484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001B3) & MASK
    value ^= len(data)
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK
    return value ^ (value >> 31)


ODD = [
    "C0000001",
    "",
    None,
    "Ålesund-7",  # two-byte UTF-8
    "a\x00",  # a NUL byte: not the same id as "a"
    "a",
    "x" * VECTOR_BYTES,  # the longest hashed side by side
    "y" * (VECTOR_BYTES + 1),  # the shortest hashed one at a time
    "z" * 1000,
    "000123",
]


def test_hashes_equal_the_definition_on_odd_ids():
    assert text_hashes(np.array(ODD, dtype=object)).tolist() == [by_hand(t) for t in ODD]


def test_a_missing_id_hashes_as_the_empty_text():
    assert text_hashes(np.array([None, "", np.nan], dtype=object)).tolist() == [by_hand("")] * 3


def test_every_input_form_gives_the_same_hashes():
    expected = text_hashes(np.array(ODD, dtype=object)).tolist()
    assert text_hashes(pd.Series(ODD, dtype="str")).tolist() == expected
    assert text_hashes(pa.array(ODD).dictionary_encode()).tolist() == expected
    chunked = pa.chunked_array([pa.array(ODD[:3]), pa.array(ODD[3:])])
    assert text_hashes(chunked).tolist() == expected
    assert text_hashes(pa.array(ODD).slice(3)).tolist() == expected[3:]  # an offset into buffers


def test_ids_of_one_width_take_the_same_path_as_mixed_ones():
    same_width = [f"C{i:07d}" for i in range(50)]
    assert text_hashes(np.array(same_width, dtype=object)).tolist() == [
        by_hand(t) for t in same_width
    ]


@given(st.lists(st.one_of(st.none(), st.text(max_size=80)), max_size=40))
def test_hashes_equal_the_definition_whatever_the_neighbours(texts):
    assert text_hashes(np.array(texts, dtype=object)).tolist() == [by_hand(t) for t in texts]


def test_a_missing_id_hashes_as_empty_even_over_bytes_the_export_left_in_its_slot():
    # Arrow allows a null slot to span bytes; they are not the id.
    validity = pa.py_buffer(bytes([0b01]))  # row 0 valid, row 1 null
    offsets = pa.py_buffer(np.array([0, 2, 5], dtype=np.int64).tobytes())
    text = pa.Array.from_buffers(pa.large_string(), 2, [validity, offsets, pa.py_buffer(b"ABxyz")])
    assert text.to_pylist() == ["AB", None]
    assert text_hashes(text).tolist() == [by_hand("AB"), by_hand("")]
