"""The demo's stand-in for a fulfilment service, used only while seeding the demo data."""


def unreachable(order):
    """An exporter whose service never answers: the order stays *submitted*, the error recorded."""
    raise ConnectionError("The fulfilment service did not answer (demo).")
