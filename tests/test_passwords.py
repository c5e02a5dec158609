"""Password hashing: scrypt outside tests; a testing app may choose a cheap method."""
from werkzeug.security import check_password_hash, generate_password_hash

from portal import create_app
from portal.models import StaffUser
from portal.passwords import hash_password


def test_a_production_app_hashes_with_scrypt_whatever_the_setting(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1"})
    with app.app_context():
        hashed = hash_password("correct-horse-battery")
    assert hashed.startswith("scrypt:")
    assert check_password_hash(hashed, "correct-horse-battery")


def test_the_test_app_uses_its_cheap_method_and_checks_any_stored_method(db):
    user = StaffUser(email="a@b.example", role="admin")
    user.set_password("correct-horse-battery")
    assert user.password_hash.startswith("pbkdf2:sha256:1$")
    assert user.check_password("correct-horse-battery") and not user.check_password("wrong-horse")
    user.password_hash = generate_password_hash("made-before", method="scrypt")
    assert user.check_password("made-before")
