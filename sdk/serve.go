package sdk

// Serve runs p as a plugin process: the whole body of a plugin's main. It never returns
// normally.
func Serve(p Plugin) {
	panic("not implemented yet")
}
