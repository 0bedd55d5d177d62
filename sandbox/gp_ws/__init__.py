"""A local GP Web Services (SOAP) sandbox: the legacy `DynamicsGPService.asmx` endpoint, with the WSDL and
XSD in `schema/`, real NTLM (sandbox.gp.auth), and the same company data as the SBA sandbox (sandbox.gp).

`start_gp_ws_sandbox(...)` serves it; pass `share=<GPSandbox>` to serve the SBA sandbox's companies, so
both interfaces answer for one company as on a real GP server with both installed.
"""
