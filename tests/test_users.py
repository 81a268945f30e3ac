"""The user directory: demo users, added users, and authentication that never tells who exists."""

from __future__ import annotations

import threading

import bcrypt
import pytest

from authcourse import DEMO_USERS, UserDirectory
from authcourse.errors import PasswordTooLong
from conftest import ALICE, BOB, ROUNDS


@pytest.fixture
def users() -> UserDirectory:
    return UserDirectory(ROUNDS)


@pytest.fixture
def checkpw_calls(monkeypatch) -> list[tuple[bytes, bytes]]:
    """Every bcrypt.checkpw call, in order (the real check still runs)."""
    calls: list[tuple[bytes, bytes]] = []
    real = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        calls.append((password, hashed))
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    return calls


def test_the_demo_users_are_alice_the_user_and_bob_the_admin(users):
    alice, bob = users.find(ALICE[0]), users.find(BOB[0])
    assert (alice.id, alice.name, alice.role) == (1, "Alice", "user")
    assert (bob.id, bob.name, bob.role) == (2, "Bob", "admin")
    assert len(users) == len(DEMO_USERS) == 2
    assert [user.email for user in users] == [ALICE[0], BOB[0]]


def test_a_directory_can_start_empty():
    assert len(UserDirectory(ROUNDS, demo_users=False)) == 0


def test_authenticate_returns_the_user_for_the_right_password(users):
    assert users.authenticate(*ALICE) == users.find(ALICE[0])
    assert users.authenticate(*BOB).role == "admin"


@pytest.mark.parametrize(
    ("email", "password"),
    [(ALICE[0], "wrong"), ("nobody@example.com", "wonderland"), (ALICE[0], ""), ("", ""), (ALICE[0], BOB[1])],
)
def test_authenticate_returns_none_for_anything_else(users, email, password):
    assert users.authenticate(email, password) is None


def test_emails_are_matched_without_case_or_surrounding_space(users):
    assert users.authenticate("  ALICE@example.com\t", ALICE[1]) is not None
    assert users.get(1).email == ALICE[0]


@pytest.mark.parametrize("email", [ALICE[0], "nobody@example.com"])
@pytest.mark.parametrize("password", ["wrong", ALICE[1]])
def test_exactly_one_bcrypt_check_runs_known_or_not(users, checkpw_calls, email, password):
    users.authenticate(email, password)
    assert len(checkpw_calls) == 1, "an unknown email must cost one bcrypt check, like a wrong password"


def test_an_unknown_email_is_checked_against_a_hash_of_the_same_cost(users, checkpw_calls):
    users.authenticate("nobody@example.com", "x")
    users.authenticate(ALICE[0], "x")
    (_, dummy), (_, real) = checkpw_calls
    assert dummy[:7] == real[:7] == b"$2b$04$"
    assert dummy != real


@pytest.mark.parametrize("email", [ALICE[0], "nobody@example.com"])
def test_a_too_long_password_is_refused_the_same_way_for_everyone(users, checkpw_calls, email):
    with pytest.raises(PasswordTooLong):
        users.authenticate(email, "x" * 73)
    assert checkpw_calls == []


def test_added_users_log_in_with_their_own_password(users):
    carol = users.add_user("carol@example.com", "c-password", name="Carol")
    assert (carol.id, carol.role, carol.name) == (3, "user", "Carol")
    assert users.authenticate("carol@example.com", "c-password") == carol
    assert users.authenticate("carol@example.com", ALICE[1]) is None
    assert users.get(3) == carol


def test_an_added_user_is_hashed_at_the_directory_s_work_factor(users):
    assert users.add_user("dave@example.com", "pw").password_hash.startswith("$2b$04$")


def test_an_added_user_s_name_defaults_to_the_local_part(users):
    assert users.add_user("Erin@Example.com", "pw").name == "Erin"


def test_an_admin_can_be_added(users):
    assert users.add_user("root@example.com", "pw", role="admin").role == "admin"


def test_a_second_user_with_the_same_email_is_refused(users):
    with pytest.raises(ValueError, match="already exists"):
        users.add_user(" Alice@Example.com ", "other")


def test_an_unknown_role_is_refused(users):
    with pytest.raises(ValueError, match="role"):
        users.add_user("x@example.com", "pw", role="superuser")


def test_the_public_view_and_the_repr_never_show_the_hash(users):
    alice = users.find(ALICE[0])
    assert alice.public() == {"id": 1, "name": "Alice", "email": ALICE[0], "role": "user"}
    assert alice.password_hash not in repr(alice)


def test_get_and_find_of_strangers_are_none(users):
    assert users.get(99) is None
    assert users.find("nobody@example.com") is None


def test_users_added_from_many_threads_get_distinct_ids(users):
    def add(start: int) -> None:
        for i in range(start, start + 10):
            users.add_user(f"u{i}@example.com", "pw")

    threads = [threading.Thread(target=add, args=(n * 10,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [user.id for user in users]
    assert len(ids) == len(set(ids)) == 52


def test_set_role_demotes_a_user_for_every_later_lookup():
    users = UserDirectory(4)
    bob = users.find("bob@example.com")
    assert bob is not None and bob.role == "admin"
    users.set_role(bob.id, "user")
    assert users.get(bob.id).role == "user" and users.find("bob@example.com").role == "user"
    assert b'"role":"user"' in users.get(bob.id).profile_json
    with pytest.raises(ValueError, match="role must be"):
        users.set_role(bob.id, "root")
