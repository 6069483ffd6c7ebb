"""The sandbox: the department stand-ins running on loopback for an EDP_HOME.

The stand-ins are their own distribution (``standins/``, dev only); the platform
starts them as a process (``control``) and reaches them only through the URLs file
they write (``link``), never by importing them.
"""

from edp.sandbox.link import SANDBOX, sandbox_url

__all__ = ["SANDBOX", "sandbox_url"]
