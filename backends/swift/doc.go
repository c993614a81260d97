// Package swift implements backends.Store over the OpenStack Swift API
// (object-store v1) with gophercloud v2.
//
// One Store spans the containers of one account: the container is the
// first key segment ("container/dir/key"), like an S3 bucket. Listings use
// prefix/delimiter and marker paging until an empty page; sizes, times and
// versions come from the listings. Reads are ranged GETs pinned with
// If-Match to the ETag seen, so static (SLO) and dynamic (DLO) large
// objects read as one file.
//
// Large objects: a listing shows an SLO with its full size and an extra
// slo_etag, which is the ETag a GET returns, so the Version is taken from
// it. A DLO manifest lists as 0 bytes with the empty MD5, which nothing in
// the listing tells apart from an empty object; so List HEADs every
// 0-byte entry that is not a directory marker (a name ending in "/" or a
// content type application/directory) and reports what the HEAD says:
// the manifest's whole size and ETag. The cost is one HEAD per empty
// object, and none for any other entry.
//
// Authentication is not this package's business: the caller hands in a
// ready *gophercloud.ServiceClient (auth/ builds it), and may hand in a
// Connect hook that logs in lazily before the first request.
//
// This package owns the gophercloud object-storage calls: no gophercloud
// type leaves it except the client it is given. It imports backends and
// gophercloud only; never cache, fs, auth or cmd.
package swift
