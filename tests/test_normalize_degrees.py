import pytest

from pipeline.normalize.degrees import (
    credential_kind,
    degree_info,
    is_honorific_fellowship,
    is_physician_degree,
    split_credentials,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("M.D., Ph.D.", ["MD", "PHD"]),
        ("MD, FACC", ["MD", "FACC"]),
        ("D.O.", ["DO"]),
        ("MBBS", ["MBBS"]),
        ("MB ChB", ["MBCHB"]),
        ("MBChB", ["MBCHB"]),
        ("M.B., Ch.B.", ["MBCHB"]),
        ("DO, MPH", ["DO", "MPH"]),
        ("NP", ["NP"]),
        ("PA-C", ["PA-C"]),
        ("PA C", ["PA-C"]),
        ("RN", ["RN"]),
        ("DNP", ["DNP"]),
        ("MSc", ["MSC"]),
        ("M.B., B.S.", ["MBBS"]),
        ("MB BS", ["MBBS"]),
        ("MB BCh BAO", ["MBBCHBAO"]),
        ("MB BChir", ["MBBCHIR"]),
        ("BM BCh", ["BMBCH"]),
        ("MD/PhD", ["MD", "PHD"]),
        ("MD-PhD", ["MD", "PHD"]),
        ("M.D.Ph.D.", ["MD", "PHD"]),
        ("M.D. and Ph.D.", ["MD", "PHD"]),
        ("MD & PhD", ["MD", "PHD"]),
        ("Ph. D.", ["PHD"]),
        ("m.d.", ["MD"]),
        ("MD (Hons)", ["MD"]),
        ("FRCP(C)", ["FRCPC"]),
        ("MBBS, FRCS(Ed)", ["MBBS", "FRCSED"]),
        ("MD, MPH, FACP", ["MD", "MPH", "FACP"]),
        ("MD; MPH; MBA", ["MD", "MPH", "MBA"]),
        ("OTR/L", ["OTR/L"]),
        ("FNP-BC", ["FNP-BC"]),
        ("fnp bc", ["FNP-BC"]),
        ("AGACNP-BC", ["AGACNP-BC"]),
        ("B.S.N., R.N.", ["BSN", "RN"]),
        ("MD, F.A.C.S.", ["MD", "FACS"]),
        ("MD, MD", ["MD"]),
        ("DO FACOI", ["DO", "FACOI"]),
        ("MD, XYZ", ["MD", "XYZ"]),
        ("M.D., F.X.Y.Z.", ["MD", "FXYZ"]),
        ("", []),
        (None, []),
        (" , ; ", []),
    ],
)
def test_split_credentials(text, expected):
    assert split_credentials(text) == expected


def test_split_credentials_returns_a_fresh_list():
    first = split_credentials("MD, PhD")
    first.append("JUNK")
    assert split_credentials("MD, PhD") == ["MD", "PHD"]


@pytest.mark.parametrize(
    "code",
    [
        "MD",
        "DO",
        "M.D.",
        "d.o.",
        "MBBS",
        "MB BS",
        "MBChB",
        "MBBCh",
        "MB BCh BAO",
        "MDCM",
        "BMBS",
        "BM BCh",
        "MB BChir",
    ],
)
def test_physician_degrees(code):
    assert is_physician_degree(code)


@pytest.mark.parametrize(
    "code",
    [
        "PhD",
        "DNP",
        "NP",
        "PA-C",
        "RN",
        "DDS",
        "DMD",
        "DPM",
        "OD",
        "DC",
        "PharmD",
        "MPH",
        "FACC",
        "PsyD",
        "CRNA",
        "XYZ",
        "",
    ],
)
def test_not_physician_degrees(code):
    assert not is_physician_degree(code)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("FACC", True),
        ("F.A.C.S.", True),
        ("FACP", True),
        ("FAAP", True),
        ("FACOG", True),
        ("FACEP", True),
        ("FAAFP", True),
        ("FHM", True),
        ("FACOI", True),
        ("FRCPC", False),
        ("FRCSC", False),
        ("FRCS", False),
        ("MRCP", False),
        ("MD", False),
        ("PhD", False),
        ("FXYZ", False),
    ],
)
def test_honorific_fellowships(code, expected):
    assert is_honorific_fellowship(code) is expected


def test_degree_info_and_kind():
    info = degree_info("m.b., ch.b.")
    assert info is not None
    assert info.code == "MBCHB"
    assert info.kind == "physician"
    assert credential_kind("PA-C") == "physician_assistant"
    assert credential_kind("FNP-BC") == "nursing"
    assert credential_kind("DABFM") == "diplomate"
    assert credential_kind("nonsense") is None
