"""Loaded by the `sam` processes the sam local tier starts (PYTHONPATH), nothing else.

`sam local invoke` POSTs the event as soon as the container's published port accepts a
connection, which Docker's userland proxy does before the runtime interface emulator inside the
arm64 container listens (under qemu it takes about a second to start). SAM retries that POST
3 times within 0.7 s, then gives up with "No response from invoke container" (exit status 0):
the function never got the event. Two changes to SAM, here and only for these processes:

- its retry gets 8 attempts (the same exponential backoff: up to ~25 s in all), enough for the
  emulated runtime to listen;
- its function-timeout timer becomes a daemon thread. SAM starts it before the POST and cancels
  it only when the POST returns; after a failed POST the non-daemon timer kept the finished
  `sam local invoke` alive for the function's whole Timeout (300 s for auto-cancel and
  auto-respond). The timeout still fires while SAM waits for a result.
"""

import threading

from samcli.lib.utils import retry as _retry_module

_retry = _retry_module.retry


def _patient_retry(exc, attempts=3, delay=0.05, exc_raise=Exception, exc_raise_msg=""):
    return _retry(exc, attempts=max(attempts, 8), delay=delay, exc_raise=exc_raise, exc_raise_msg=exc_raise_msg)


_retry_module.retry = _patient_retry

_Timer = threading.Timer


class _DaemonTimer(_Timer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.daemon = True


threading.Timer = _DaemonTimer
