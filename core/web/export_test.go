package web

// ContentDisposition exposes contentDisposition to the package's tests.
var ContentDisposition = contentDisposition
