import keras
import tensorflow as tf


def discriminator_loss(logits_real, logits_fake):
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    real_loss = bce(tf.ones_like(logits_real), logits_real)
    fake_loss = bce(tf.zeros_like(logits_fake), logits_fake)
    loss = real_loss + fake_loss
    return loss


def generator_loss(logits_fake):
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    loss = bce(tf.ones_like(logits_fake), logits_fake)
    return loss


def build_generator(latent_dim, hidden_units, data_dim):
    return keras.Sequential([
        keras.Input(shape=(latent_dim,)),
        keras.layers.Dense(hidden_units, activation="relu"),
        keras.layers.Dense(hidden_units, activation="relu"),
        keras.layers.Dense(data_dim),
    ])


def build_discriminator(data_dim, hidden_units):
    return keras.Sequential([
        keras.Input(shape=(data_dim,)),
        keras.layers.Dense(hidden_units, activation="relu"),
        keras.layers.Dense(hidden_units, activation="relu"),
        keras.layers.Dense(1),
    ])


def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as tape:
        fake = generator(noise, training=True)
        d_loss = discriminator_loss(discriminator(real, training=True), discriminator(fake, training=True))
    grads = tape.gradient(d_loss, discriminator.trainable_variables)
    d_optimizer.apply_gradients(zip(grads, discriminator.trainable_variables))
    with tf.GradientTape() as tape:
        fake = generator(noise, training=True)
        g_loss = generator_loss(discriminator(fake, training=True))
    grads = tape.gradient(g_loss, generator.trainable_variables)
    g_optimizer.apply_gradients(zip(grads, generator.trainable_variables))
    return d_loss, g_loss
