// TLS server options for SSL and SASL_SSL listeners, from Kafka's ssl.* settings. Read once at start; a
// keystore that cannot be read or used stops the broker with a message naming the setting.
import { readFile } from 'node:fs/promises';
import { createSecureContext, type TlsOptions } from 'node:tls';
import type { BrokerConfig } from '../../common/config.js';

/** A TLS setting names a file that cannot be read or holds no usable key, certificate or CA. */
export class TlsSetupError extends Error {
  override name = 'TlsSetupError';
}

type TlsSettings = Pick<
  BrokerConfig,
  | 'sslKeystoreLocation'
  | 'sslKeystoreType'
  | 'sslKeystorePassword'
  | 'sslKeyPassword'
  | 'sslTruststoreLocation'
  | 'sslClientAuth'
>;

export async function tlsServerOptions(settings: TlsSettings): Promise<TlsOptions> {
  const keystorePath = settings.sslKeystoreLocation;
  if (keystorePath === null) throw new TlsSetupError('ssl.keystore.location is not set');
  const keystore = await readSettingFile('ssl.keystore.location', keystorePath);
  const options: TlsOptions = {
    // Kafka's defaults: TLS 1.2 and 1.3 only.
    minVersion: 'TLSv1.2',
    requestCert: settings.sslClientAuth !== 'none',
    rejectUnauthorized: settings.sslClientAuth === 'required',
  };
  if (settings.sslKeystoreType === 'PKCS12') {
    options.pfx = keystore;
    if (settings.sslKeystorePassword !== null) options.passphrase = settings.sslKeystorePassword;
  } else {
    // One PEM file holds the private key and the certificate chain; each option takes the blocks it needs.
    options.key = keystore;
    options.cert = keystore;
    if (settings.sslKeyPassword !== null) options.passphrase = settings.sslKeyPassword;
  }
  if (settings.sslTruststoreLocation !== null) {
    options.ca = await readSettingFile('ssl.truststore.location', settings.sslTruststoreLocation);
  }
  try {
    createSecureContext(options);
  } catch (error) {
    const where =
      settings.sslTruststoreLocation === null
        ? `ssl.keystore.location ${keystorePath}`
        : `ssl.keystore.location ${keystorePath} or ssl.truststore.location ${settings.sslTruststoreLocation}`;
    throw new TlsSetupError(
      `${where} (${settings.sslKeystoreType}) cannot be used: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return options;
}

async function readSettingFile(setting: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new TlsSetupError(`${setting} ${path} cannot be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
