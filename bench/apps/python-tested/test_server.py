from server import greeting


def test_greeting_names_the_caller() -> None:
    assert greeting("ada")["greeting"] == "hello, ada"


def test_greeting_defaults_to_world() -> None:
    assert greeting("")["greeting"] == "hello, world"
