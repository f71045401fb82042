import tomllib

import pytest

from qualcx.errors import SettingsError
from qualcx.settings import SETTINGS, defaults, load_settings, sample_toml


def test_sample_toml_lists_every_setting_and_uncommented_gives_defaults(tmp_path):
    sample = sample_toml()
    for s in SETTINGS:
        assert f"# {s.name} = " in sample
    names = tuple(f"# {s.name} = " for s in SETTINGS)
    uncommented = "\n".join(line[2:] for line in sample.splitlines() if line.startswith(names))
    assert tomllib.loads(uncommented) == defaults()
    path = tmp_path / "qualcx.toml"
    path.write_text(sample)
    assert load_settings(path) == defaults()


def test_unknown_setting_is_named(tmp_path):
    path = tmp_path / "qualcx.toml"
    path.write_text("treshold = 0.4\n")
    with pytest.raises(SettingsError, match="unknown setting 'treshold'"):
        load_settings(path)


def test_wrong_type_is_reported(tmp_path):
    path = tmp_path / "qualcx.toml"
    path.write_text('threshold = "high"\n')
    with pytest.raises(SettingsError, match="'threshold' must be a number"):
        load_settings(path)


def test_values_override_defaults(tmp_path):
    path = tmp_path / "qualcx.toml"
    path.write_text('segment_unit = "sentence"\nthreshold = 1\n')
    settings = load_settings(path)
    assert settings["segment_unit"] == "sentence"
    assert settings["threshold"] == 1.0
