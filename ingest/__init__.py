"""Getting data in: one package per source, the landing zone, and the one DuckDB writer.

Every source implements `ingest.pages.PageSource`; everything after extract reads landing
files only, so it cannot tell the live API, a local fake server and the simulator apart.
"""
