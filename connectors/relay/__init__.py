"""GP through an agent: the connector's half of the relay.

A GP connection in "through agent" mode sends each HTTP request (method, path under the GP base,
headers without auth, body, timeout) to a queue in the database instead of the network; an agent the
customer runs next to GP takes it over an outbound HTTPS call (`/agent/poll`), runs it against GP with
NTLM and posts the answer (`/agent/answer`). The GP client above the HTTP session does not know: SBA
REST and any transport built on the same `requests.Session` (SOAP) are relayed alike.
"""
