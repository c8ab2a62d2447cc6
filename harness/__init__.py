"""What the tests and the benchmark share to run the service for real: `servers` (gunicorn as a
subprocess on a free port, its workers, their memory; an HTTP receiver in a thread). Both import it
from the repository root, where `python -m pytest` and `python -m bench` run."""
