"""config.serve makes autobahn's debug text only for lines that are written: what a written line
says is unchanged, and a line that is not written costs no colouring."""

from autobahn import util as autobahn_util
from autobahn.twisted import websocket as autobahn_twisted
from autobahn.websocket import protocol as autobahn_protocol

from config import serve


def test_a_written_debug_line_reads_as_before_and_an_unwritten_one_colours_nothing(monkeypatch):
    for module in (autobahn_protocol, autobahn_twisted):
        monkeypatch.setattr(module, "hltype", module.hltype)
        monkeypatch.setattr(module, "hlval", module.hlval)
    monkeypatch.setattr(autobahn_protocol, "pformat", autobahn_protocol.pformat)
    monkeypatch.setattr(autobahn_protocol.Timings, "__str__", autobahn_protocol.Timings.__str__)
    serve._quiet_handshake_debug()

    def sent():  # stands for any method autobahn names in a debug line
        pass

    written = f"{autobahn_protocol.hltype(sent)} sent {autobahn_twisted.hlval(12)} bytes"
    assert written == f"{autobahn_util.hltype(sent)} sent {autobahn_util.hlval(12)} bytes"

    coloured = []
    monkeypatch.setattr(autobahn_util, "hl", lambda *args, **kwargs: coloured.append(args) or "")
    autobahn_protocol.hltype(sent)
    autobahn_twisted.hlval(12)
    assert coloured == []
