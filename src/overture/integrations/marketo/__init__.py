"""Marketo: the connector. Its modules: fake.py, a local fake of the Marketo REST and Bulk APIs for tests, the demo
and benchmarks (with fake_data.py, the generated data set; fake_store.py, its records; fake_endpoints.py and
fake_outbound.py, the REST endpoints; fake_bulk.py, the bulk lead extract). More to come: the client, the inbound
sync, the outbound writes."""
