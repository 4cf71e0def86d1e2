"""The embedded broker for machines without Redis: kombu's filesystem transport, made atomic.

kombu's own `_put` creates the message file and then writes it, while `_get` reads without
taking the lock, so a worker polling at the wrong instant reads an empty file and loses the
task (JSONDecodeError). Here a message is written under a name no queue matches and renamed
into place, which is atomic on POSIX: a reader sees the whole message or none.
"""

import os
import uuid
from time import monotonic

from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

ALIAS = "paperboy-fs"


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs) -> None:
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f"partial-{name}.part")
        with open(partial, "wb") as file:
            file.write(str_to_bytes(dumps(payload)))
        os.replace(partial, final)


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES[ALIAS] = "config.broker:Transport"
