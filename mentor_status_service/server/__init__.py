"""What only a bare gunicorn needs: a deadline on request heads (worker.py, the gthread worker
gunicorn.conf.py names) and on request bodies (request_bodies.py). Behind a buffering proxy neither
is reached; without one they keep slow clients from holding the workers."""
