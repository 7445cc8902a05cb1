from built_by_kiln import greet


def test_greet():
    assert greet() == 'Hello from kiln'
