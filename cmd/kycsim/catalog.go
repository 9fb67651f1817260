package main

import (
	"github.com/kycsim/kycsim/spec"
)

// loadCatalog loads the built-in catalog plus, when asked, a user's
// AsyncAPI document; it returns the name of the user's product too.
func loadCatalog(asyncapiFile string) (*spec.Catalog, string, error) {
	cat, err := spec.Load()
	if err != nil {
		return nil, "", err
	}
	if asyncapiFile == "" {
		return cat, "", nil
	}
	data, err := readCapped(asyncapiFile)
	if err != nil {
		return nil, "", usageErrorf("--asyncapi: %v", err)
	}
	p, err := cat.AddAsyncAPI(asyncapiFile, data, "")
	if err != nil {
		return nil, "", usageErrorf("--asyncapi: %v", err)
	}
	return cat, p.Name, nil
}
