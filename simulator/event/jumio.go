package event

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kycsim/kycsim/spec/format"
)

// Jumio KYX: one JSON document a workflow status, in the field order of
// the AsyncAPI document's example. The status names the message.

func checkKYXOptions(o *Options) error {
	if err := checkJumioShared(o); err != nil {
		return err
	}
	if o.RejectCode != "" {
		return errors.New("reject code: rejectReason is a jumio-netverify field")
	}
	if o.Subject != "" && !format.IsUUID(o.Subject) {
		return fmt.Errorf("subject %q: a KYX workflow execution id is a UUID", o.Subject)
	}
	if o.AccountID != "" && !format.IsUUID(o.AccountID) {
		return fmt.Errorf("account id %q: a KYX account id is a UUID", o.AccountID)
	}
	return nil
}

var kyxStatuses = map[string]bool{
	"PROCESSED": true, "ACQUISITION_STARTED": true, "ACQUIRED": true, "SESSION_EXPIRED": true, "TOKEN_EXPIRED": true,
}

func buildKYX(g *gen, message string) (*Object, error) {
	if !kyxStatuses[message] {
		return nil, fmt.Errorf("no jumio-kyx workflow status %s", message)
	}
	id := g.opt.Subject
	if id == "" {
		id = g.uuid()
	}
	account := g.opt.AccountID
	if account == "" {
		account = g.per("kyx.account").uuid()
	}
	accountHref := g.base + "/api/v1/accounts/" + account

	we := NewObject()
	we.set("id", id)
	we.set("href", accountHref+"/workflow-executions/"+id)
	we.set("definitionKey", "10001")
	we.set("status", message)
	acc := NewObject()
	acc.set("id", account)
	acc.set("href", accountHref)

	root := NewObject()
	root.set("callbackSentAt", g.jumioTime(g.now))
	root.set("userReference", "customer-user-"+g.per("kyx.userReference").digitString(4))
	root.set("workflowExecution", we)
	root.set("account", acc)
	return root, nil
}

// Jumio Authentication: a selfie matched against an enrolled ID, in the
// field order of the guide's sample. The transaction result names the
// message.

var authResults = map[string]bool{"PASSED": true, "FAILED": true, "INVALID": true, "EXPIRED": true}

func buildAuth(g *gen, message string) (*Object, error) {
	if !authResults[message] {
		return nil, fmt.Errorf("no jumio-auth transaction result %s", message)
	}
	ref := g.opt.Subject
	if ref == "" {
		ref = g.uuid()
	}
	images := g.base + "/api/netverify/v2/authentications/" + ref + "/images/"
	captured := message != "EXPIRED" // an expired transaction never got a selfie

	root := NewObject()
	root.set("scanSource", "SDK")
	root.set("transactionReference", ref)
	root.set("enrollmentTransactionReference", g.per("auth.enrollmentTransactionReference").uuid())
	root.set("callBackType", "NETVERIFY_AUTHENTICATION")
	if captured {
		n := 3 + g.r.IntN(5)
		liveness := make([]any, n)
		for i := range liveness {
			liveness[i] = images + "liveness/" + itoa(i+1)
		}
		root.set("livenessImages", liveness)
		// The table says JSON array/object; the guide's sample sends a
		// plain URL, as form text.
		if g.table {
			root.set("idScanImageFace", []any{images + "face"})
		} else {
			root.set("idScanImageFace", FormText(images+"face"))
		}
	}
	started := g.now.Add(-g.between(10*time.Second, 90*time.Second))
	if !captured {
		started = g.now.Add(-g.between(30*time.Minute, 35*time.Minute))
	}
	root.set("callbackDate", g.jumioTime(g.now))
	root.set("transactionDate", g.jumioTime(started))
	root.set("transactionResult", message)
	return root, nil
}

// Jumio Document Verification: transaction and document are JSON in form
// fields, in the field order of the guide's samples (members of
// transaction and extractedData in alphabetical order, as there).

var docCountries = []string{"USA", "GBR", "CAN", "AUS", "AUT"}

// alpha2 gives the ISO 3166-1 alpha-2 code of docCountries, for SWIFT codes.
var alpha2 = map[string]string{"USA": "US", "GBR": "GB", "CAN": "CA", "AUS": "AU", "AUT": "AT"}

func buildDocVerify(g *gen, message string) (*Object, error) {
	var docStatus string
	switch message {
	case "UPLOADED", "EXTRACTED", "DISCARDED":
		docStatus = message
	case "FAILED":
	default:
		return nil, fmt.Errorf("no jumio-docverify document or transaction status %s", message)
	}
	ref := g.opt.Subject
	if ref == "" {
		ref = g.uuid()
	}
	source := g.per("docverify.source").pick([]string{"DOC_UPLOAD", "DOC_API", "DOC_SDK"})
	tx := NewObject()
	if source == "DOC_API" {
		tx.set("clientIp", g.clientIP())
	}
	tx.set("customerId", "customer-"+g.per("docverify.customerId").digitString(6))
	created := g.now.Add(-g.between(2*time.Minute, 10*time.Minute))
	if docStatus == "" {
		// FAILED: not finalized within 5 minutes of the last update.
		created = g.now.Add(-g.between(5*time.Minute, 8*time.Minute))
	}
	tx.set("date", g.jumioTime(created))
	tx.set("merchantScanReference", "scan-"+g.per("docverify.merchantScanReference").hex(12))
	tx.set("source", source)
	if docStatus == "" {
		tx.set("status", "FAILED")
	} else {
		tx.set("status", "DONE")
	}

	root := NewObject()
	root.set("timestamp", g.jumioTime(g.now))
	root.set("scanReference", ref)
	if docStatus != "" {
		root.set("document", g.document(ref, docStatus))
	}
	root.set("transaction", tx)
	return root, nil
}

// document builds the document object of a Document Verification callback.
func (g *gen) document(ref, status string) *Object {
	var docType, country string
	switch status {
	case "EXTRACTED":
		docType = g.pick([]string{"BS", "UB", "SSC", "CC"})
	case "UPLOADED":
		// CC is always EXTRACTED (masked), so it is never just uploaded.
		docType = g.pick([]string{"BS", "UB", "CCS", "LAG", "TR", "PB", "OTHER"})
	default:
		docType = g.pick([]string{"BS", "UB", "SSC", "CCS"})
	}
	country = g.pick(docCountries)
	if docType == "SSC" {
		country = "USA" // Social Security cards are USA only
	}
	pages := 1
	if docType == "CC" || docType == "CCS" || docType == "LAG" || docType == "TR" {
		pages = 2 // front and back
	}
	images := make([]any, pages)
	for i := range images {
		images[i] = g.base + "/api/netverify/v2/documents/" + ref + "/pages/" + itoa(i+1)
	}
	doc := NewObject()
	doc.set("type", docType)
	doc.set("country", country)
	if status == "EXTRACTED" {
		doc.set("extractedData", g.extractedData(docType, country))
	}
	doc.set("images", images)
	doc.set("status", status)
	return doc
}

// extractedData returns the data Jumio extracts from a document type, per
// the guide's extraction table.
func (g *gen) extractedData(docType, country string) *Object {
	first, last := g.pick(firstNames), g.pick(lastNames)
	name := first + " " + last
	issued := g.now.AddDate(0, -1-g.r.IntN(2), -g.r.IntN(28))
	d := NewObject()
	switch docType {
	case "SSC":
		d.set("firstName", first)
		d.set("lastName", last)
		// The table says the string true/false; the guide's sample sends
		// a JSON boolean.
		signed := g.r.IntN(4) > 0
		if g.table {
			d.set("signatureAvailable", strconv.FormatBool(signed))
		} else {
			d.set("signatureAvailable", signed)
		}
		d.set("ssn", itoa(100+g.r.IntN(565))+g.digitString(6))
	case "CC":
		// The expiry date is currently returned as issueDate.
		d.set("issueDate", date(g.expiryDate()))
		d.set("name", name)
		d.set("pan", "XXXXXXXXXXXX"+g.digitString(4))
	case "BS":
		d.set("accountNumber", g.digitString(10))
		d.set("address", g.rawAddress(country))
		d.set("issueDate", date(issued))
		d.set("name", name)
		d.set("swiftCode", g.letters(4)+alpha2[country]+"2L")
	default: // UB
		d.set("address", g.rawAddress(country))
		d.set("dueDate", date(issued.AddDate(0, 0, 30)))
		d.set("issueDate", date(issued))
		d.set("name", name)
	}
	return d
}

// rawAddress returns a Document Verification address (raw format, with
// countryCode), members in alphabetical order.
func (g *gen) rawAddress(country string) *Object {
	a := g.address(country)
	o := NewObject()
	o.set("city", a.city)
	o.set("countryCode", a.country)
	o.set("line1", a.line1())
	o.set("postalCode", a.postalCode)
	if a.subdivision != "" {
		o.set("subdivision", a.subdivision)
	}
	return o
}
