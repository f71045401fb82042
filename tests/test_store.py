
import pytest
from conftest import V5_COLUMNS

from qualcx.errors import ProjectError, SchemaVersionError
from qualcx.store import Store


def test_unknown_schema_version_is_refused(tmp_path):
    store = Store(tmp_path / "p.db")
    store.db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    store.close()
    with pytest.raises(SchemaVersionError, match="schema version 99"):
        Store(tmp_path / "p.db")


def test_not_a_database_is_a_clear_error(tmp_path):
    (tmp_path / "p.db").write_text("hello, I am not SQLite" * 100)
    with pytest.raises(ProjectError, match="not a qualcx project database"):
        Store(tmp_path / "p.db")


def test_transaction_rolls_back_on_error(tmp_path):
    store = Store(tmp_path / "p.db")
    with pytest.raises(RuntimeError):
        with store.transaction() as db:
            db.execute("INSERT INTO interviews (id, file, sha256, text) VALUES ('a', 'a', 'x', 't')")
            raise RuntimeError("boom")
    assert store.interviews() == []


def test_embedding_cache_round_trip(tmp_path):
    import numpy as np
    store = Store(tmp_path / "p.db")
    store.save_embeddings({"h1": np.array([1, 2, 3], dtype=np.float32)}, "m")
    got = store.cached_embeddings(["h1", "h2"], "m")
    assert list(got) == ["h1"] and got["h1"].tolist() == [1, 2, 3]
    assert store.cached_embeddings(["h1"], "other") == {}


def test_a_version_2_store_gains_the_near_misses_table(tmp_path):
    import sqlite3

    from qualcx import store as store_module
    v2 = store_module.SCHEMA
    start = v2.index("CREATE TABLE IF NOT EXISTS near_misses")
    v2 = v2[:start] + v2[v2.index("CREATE TABLE IF NOT EXISTS redactions"):]
    v2 = v2[:v2.index("CREATE TABLE IF NOT EXISTS theme_names")] \
        + v2[v2.index("CREATE TABLE IF NOT EXISTS theme_segments"):]  # version 4's
    v2 = v2.replace(V5_COLUMNS, "").replace(
        ",\n    machine_label TEXT NOT NULL DEFAULT '', name_id INTEGER", "")
    db = sqlite3.connect(tmp_path / "p.db")
    db.executescript(v2)
    db.execute("INSERT INTO meta VALUES ('schema_version', '2')")
    db.execute("INSERT INTO interviews (id, file, sha256, text) VALUES ('a', 'a.txt', 'x', 't')")
    db.commit()
    db.close()
    store = Store(tmp_path / "p.db")
    assert store.meta_value("schema_version") == str(store_module.SCHEMA_VERSION)
    assert [r["id"] for r in store.interviews()] == ["a"]
    assert store.near_misses(1) == []


def test_a_version_4_store_gains_the_words_theme_keywords_stand_for(tmp_path):
    import sqlite3

    from qualcx import store as store_module
    v4 = store_module.SCHEMA.replace(V5_COLUMNS, "")
    assert "keyword_words" not in v4
    db = sqlite3.connect(tmp_path / "p.db")
    db.executescript(v4)
    db.execute("INSERT INTO meta VALUES ('schema_version', '4')")
    db.execute("INSERT INTO themes (key, label, keywords, parent_code, ordinal) "
               "VALUES ('cx-1', 'Field operations', '[\"field operations\"]', 'cx', 0)")
    db.commit()
    db.close()
    store = Store(tmp_path / "p.db")
    assert store.meta_value("schema_version") == "5"
    row = store.db.execute("SELECT * FROM themes").fetchone()
    assert (row["label"], row["keywords"], row["keyword_words"]) == \
        ("Field operations", '["field operations"]', "{}")
