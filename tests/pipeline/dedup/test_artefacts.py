import numpy as np
import pytest

from pipeline.dedup.artefacts import CorruptArtefactError, read_arrays, write_arrays


def test_round_trip(tmp_path):
    path = tmp_path / "a.bin"
    arrays = {"x": np.arange(10, dtype=np.uint64), "ids": np.array(["ab", "cde"]), "m": np.ones((3, 4))}
    write_arrays(path, arrays, extra={"k": 1})
    got, extra = read_arrays(path)
    assert extra == {"k": 1}
    for name, value in arrays.items():
        assert np.array_equal(got[name], value)


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage"])
def test_corruption_is_detected_and_named(tmp_path, damage):
    path = tmp_path / "part.p0001"
    write_arrays(path, {"x": np.arange(1000, dtype=np.uint64)})
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[500] ^= 1
    elif damage == "truncate":
        data = data[:-40]
    else:
        data = bytearray(b"not an artefact")
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptArtefactError, match="part.p0001"):
        read_arrays(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(CorruptArtefactError, match="gone.bin"):
        read_arrays(tmp_path / "gone.bin")
