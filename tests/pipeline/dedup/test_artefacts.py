import numpy as np
import pytest

from pipeline.dedup.artefacts import CorruptArtefactError, read_arrays, read_part, write_arrays, write_parts


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


def test_partitioned_round_trip_reads_one_slice(tmp_path):
    path = tmp_path / "s00003"
    parts = [{"key": np.arange(n, dtype=np.uint64), "id": np.array([f"d{i}" for i in range(n)], dtype=str)}
             for n in (5, 0, 3)]
    write_parts(path, parts)
    for q, expected in enumerate(parts):
        got = read_part(path, q)
        assert np.array_equal(got["key"], expected["key"]) and got["id"].tolist() == expected["id"].tolist()
    with pytest.raises(CorruptArtefactError, match="s00003.*part 3"):
        read_part(path, 3)


@pytest.mark.parametrize("where", ["index", "slice"])
def test_partitioned_corruption_is_detected_and_named(tmp_path, where):
    path = tmp_path / "s00001"
    write_parts(path, [{"x": np.arange(100, dtype=np.uint64)}, {"x": np.arange(100, 200, dtype=np.uint64)}])
    data = bytearray(path.read_bytes())
    data[20 if where == "index" else -100] ^= 1  # an offset, or a value of the last slice
    path.write_bytes(bytes(data))
    if where == "index":
        with pytest.raises(CorruptArtefactError, match="s00001 is corrupt \\(index checksum mismatch\\)"):
            read_part(path, 0)
    else:
        assert read_part(path, 0)["x"].tolist() == list(range(100))  # an intact slice still reads
        with pytest.raises(CorruptArtefactError, match="s00001 \\(part 1\\) is corrupt \\(checksum mismatch\\)"):
            read_part(path, 1)
