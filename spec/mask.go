package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"path"

	"github.com/kycsim/kycsim/spec/maskrule"
)

// MaskRules returns a product's masking rules (spec/data/PRODUCT.mask.yaml):
// which fields of its callbacks hold personal data, for `kycsim record`.
// A product without a rules file has none: every field is masked as text.
func MaskRules(product string) (*maskrule.Rules, error) {
	file := product + ".mask.yaml"
	data, err := dataFS.ReadFile(path.Join("data", file))
	if errors.Is(err, fs.ErrNotExist) {
		return &maskrule.Rules{Product: product}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read spec/data/%s: %w", file, err)
	}
	r, err := maskrule.Parse(path.Join("spec/data", file), data)
	if err != nil {
		return nil, err
	}
	if r.Product != product {
		return nil, fmt.Errorf("spec/data/%s: product %q; the file is named for %q", file, r.Product, product)
	}
	return r, nil
}
