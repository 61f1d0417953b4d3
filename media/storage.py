"""Where uploads are stored: STORAGES["default"], the file system under MEDIA_ROOT or an S3 bucket.

When MEDIA_S3_BUCKET is set, config.settings.base makes STORAGES["default"] the `s3_storage` of the
MEDIA_S3_* settings; otherwise files stay under MEDIA_ROOT (FileSystemStorage). This module imports
nothing of Django's, so settings may import it.

Either way nothing in the store is public: every byte goes out through `media.views.serve` after
the check of `media.access`, which streams it, hands it to nginx, or (MEDIA_SERVE="redirect")
answers with a presigned URL that expires after MEDIA_PRESIGNED_SECONDS. The keys are random
(`Media.key`), but nothing relies on that for privacy.
"""


def s3_storage(
    *,
    bucket: str,
    endpoint_url: str = "",
    region: str = "",
    access_key_id: str = "",
    secret_access_key: str = "",
    presigned_seconds: int,
) -> dict:
    """A STORAGES entry for the S3 (or S3-compatible) bucket `bucket`: private objects, presigned reads.

    `endpoint_url` names a server other than AWS (MinIO, Ceph, moto): those are reached by path
    (http://host/bucket/key), having no per-bucket host names. Without keys, boto3 looks for
    credentials the usual way (environment, instance role).
    """
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "region_name": region or None,
            "access_key": access_key_id or None,
            "secret_key": secret_access_key or None,
            # No ACL sent: objects get S3's default, readable by the bucket owner only. ("private"
            # says the same, but a bucket with ACLs disabled, the default for new AWS buckets,
            # refuses any ACL header other than bucket-owner-full-control.) Never public-read.
            "default_acl": None,
            # A name taken gets a fresh one rather than replacing another upload's file.
            "file_overwrite": False,
            # Every URL the storage makes is signed and short-lived (the "redirect" way of serving).
            "querystring_auth": True,
            "querystring_expire": presigned_seconds,
            "signature_version": "s3v4",
            "addressing_style": "path" if endpoint_url else None,
        },
    }
