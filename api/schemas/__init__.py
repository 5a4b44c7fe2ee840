"""The API's request and response bodies (Pydantic), by resource: the contract the app codes to."""
