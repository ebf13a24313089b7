import { createZohoSyncApp } from './zoho-sync-app';

// The CDK CLI runs this (cdk.json "app"); the App synthesizes itself when the process ends.
createZohoSyncApp();
