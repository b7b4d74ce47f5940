//! A stand-in FlexPortal API server.
