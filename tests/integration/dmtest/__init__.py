"""dmtest: the pieces every dockmesh test client shares, Python stdlib plus Debian's python3-zmq
and python3-msgpack, no dockmesh code.

    dmtest.unix_http   HTTP over a unix socket: raw Docker Engine API calls to a mesh's dockerd
    dmtest.bus         a CURVE PUB/SUB pair on a broker's XSUB/XPUB ports: publish, receive
                       (the broker's stamp taken off the topic), wait until a probe comes back
    dmtest.process     stop_child: SIGTERM a child the test started, SIGKILL after a timeout

The harnesses build on them: meshlib.Mesh.docker, agent_bus.AgentBus, broker_harness.Bus,
tests/faults/faultlib.Bus. Only 127.0.0.1 and unix sockets.
"""
