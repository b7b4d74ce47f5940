//! Typed client for the FlexPortal REST API.
