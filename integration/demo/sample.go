package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/earthmount/earthmount/integration/testenv"
)

const readme = `earthmount demo bucket

This bucket lives in a versitygw S3 server on 127.0.0.1, started by the demo.
earthmount lists it lazily, reads it through a chunk cache, and is read-only.

  stations/   one CSV file of daily temperatures per station and year
  climate/    the same small gridded dataset as Zarr and as NetCDF (xarray)
  big/        a 256 MiB file to time a sequential read (cp or dd to /dev/null)
`

// writeSamples creates the bucket and fills it. It returns a non-nil sci
// when the Zarr and NetCDF samples could not be written (no Debian python
// with xarray), which the demo reports and survives.
func writeSamples(ctx context.Context, v *testenv.Versity, work string) (sci, err error) {
	if err := v.CreateBucket(ctx, bucket); err != nil {
		return nil, err
	}
	if _, err := v.WriteObject(bucket, "README.txt", []byte(readme)); err != nil {
		return nil, err
	}
	for _, st := range []string{"boulder", "cesnet-brno", "mauna-loa", "ny-alesund", "svalbard"} {
		for year := 2020; year <= 2024; year++ {
			key := fmt.Sprintf("stations/%s/%d.csv", st, year)
			if _, err := v.WriteObject(bucket, key, []byte(stationCSV(st, year))); err != nil {
				return nil, err
			}
		}
	}
	if _, err := v.WriteObjectFrom(bucket, "big/256MiB.bin", testenv.Content("demo-big", 256<<20)); err != nil {
		return nil, err
	}
	if sci = testenv.CheckPython(ctx); sci != nil {
		return sci, nil
	}
	local := filepath.Join(work, "climate")
	if err := os.MkdirAll(local, 0o755); err != nil {
		return nil, err
	}
	if err := testenv.WriteScience(ctx, local); err != nil {
		return err, nil
	}
	if _, err := v.WriteTree(bucket, "climate/", local); err != nil {
		return nil, err
	}
	return nil, nil
}

// stationCSV returns a year of made-up daily temperatures with a seasonal
// cycle, different per station.
func stationCSV(station string, year int) string {
	var b strings.Builder
	b.WriteString("date,temperature_c\n")
	base := float64(testenv.SizeFor(station, -10, 25))
	for day := range 365 {
		season := 10 * math.Sin(2*math.Pi*float64(day-100)/365)
		noise := float64(testenv.SizeFor(fmt.Sprint(station, year, day), -30, 30)) / 10
		fmt.Fprintf(&b, "%d-%03d,%.1f\n", year, day+1, base+season+noise)
	}
	return b.String()
}
