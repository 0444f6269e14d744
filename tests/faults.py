"""Faults planted for one test: a real function that fails once, then works (a database error,
a full disk), to show that what PayPal retries is accepted the second time."""


def fail_first_call(monkeypatch, owner, name, error):
    """Make ``owner.name`` raise ``error`` on its first call and behave normally afterwards.
    Returns the list of calls (one item per call), for tests that count them."""
    real = getattr(owner, name)
    calls = []

    def failing_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, failing_once)
    return calls
