"""deploy/nginx on loopback, as the nginx image would load it: for the proxy tests and the
fault run (`manage.py faults`). Development only."""

import datetime
import ipaddress
import os
import shutil
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings

NGINX_DIR = settings.BASE_DIR / "deploy" / "nginx"
COMPOSE_UPSTREAM = "server web:8000;"


def self_signed_certificate(folder: Path) -> Path:
    """certs/fullchain.pem and certs/privkey.pem for localhost and 127.0.0.1; returns the
    certificate's path (the test client trusts exactly this certificate)."""
    folder.mkdir(parents=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (folder / "fullchain.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "privkey.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder / "fullchain.pem"


def render_nginx_config(
    folder: Path, *, upstream: str, http_port: int, https_port: int, worker_connections: int = 256
) -> Path:
    """deploy/nginx in `folder` with loopback ports, a self-signed certificate (certs/) and a
    main nginx.conf like the image's, with this folder's pid file and temp folders, the
    maintenance page and the access log in `folder/access.log`. Returns the main file.
    Raises ValueError when portal.conf no longer has a line this relies on."""
    portal = (NGINX_DIR / "conf.d" / "portal.conf").read_text()
    replacements = {
        COMPOSE_UPSTREAM: f"server {upstream};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "listen [::]:443 ssl;": "",
        # The access log in this folder (access.log), where the tests can read it.
        "access_log /dev/stdout portal_json;": f"access_log {folder}/access.log portal_json;",
    }
    for old, new in replacements.items():
        if old not in portal:
            raise ValueError(f"deploy/nginx/conf.d/portal.conf no longer has {old!r}")
        portal = portal.replace(old, new)
    (folder / "conf.d").mkdir(parents=True)
    (folder / "conf.d" / "portal.conf").write_text(portal)
    shutil.copytree(NGINX_DIR / "snippets", folder / "snippets")
    shutil.copytree(NGINX_DIR / "maintenance", folder / "maintenance")
    self_signed_certificate(folder / "certs")
    temp = folder / "temp"
    temp.mkdir()
    user = "user root;" if os.geteuid() == 0 else ""
    main = folder / "nginx.conf"
    main.write_text(
        f"""{user}
worker_processes 1;
pid {folder}/nginx.pid;
events {{ worker_connections {worker_connections}; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include conf.d/*.conf;
}}
"""
    )
    return main
